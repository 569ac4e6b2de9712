package gatewaytest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// ProfileState is the state of a profile on an eUICC (ProfileStateType).
type ProfileState string

// The three profile states.
const (
	StateCreated  ProfileState = "Created"
	StateDisabled ProfileState = "Disabled"
	StateEnabled  ProfileState = "Enabled"
)

// POL2 rule actions and qualifications (POL2Type).
const (
	POL2Enable  = "ENABLE"
	POL2Disable = "DISABLE"
	POL2Delete  = "DELETE"

	POL2NotAllowed = "Not-Allowed"
	POL2AutoDelete = "Auto-Delete"
)

// POL2Rule is one policy rule of a profile. Subject is always PROFILE.
type POL2Rule struct {
	Action        string `json:"action"`        // ENABLE, DISABLE or DELETE
	Qualification string `json:"qualification"` // Not-Allowed or Auto-Delete
}

// SubscriptionAddress is a profile's IMSI and MSISDN.
type SubscriptionAddress struct {
	IMSI   string `json:"imsi,omitempty"`
	MSISDN string `json:"msisdn,omitempty"`
}

// Profile is a profile installed on an eUICC.
type Profile struct {
	ICCID string `json:"iccid"`
	// ISDPAID is the ISD-P AID in hex; generated when empty.
	ISDPAID string `json:"isdpAid,omitempty"`
	// MNOID is the owner's OID; the gateway's OperatorID when empty.
	MNOID       string       `json:"mnoId,omitempty"`
	SMDPID      string       `json:"smdpId,omitempty"`
	ProfileType string       `json:"profileType,omitempty"`
	State       ProfileState `json:"state,omitempty"` // Disabled when empty
	Fallback    bool         `json:"fallback,omitempty"`
	POL2        []POL2Rule   `json:"pol2,omitempty"`

	SubscriptionAddress SubscriptionAddress `json:"subscriptionAddress"`
	AllocatedMemory     uint64              `json:"allocatedMemory,omitempty"`
}

// EUICC is the state the mock keeps for one eUICC: its EIS fields and profiles, and how the simulated
// eUICC behaves (latency, reachability).
type EUICC struct {
	EID             string `json:"eid"`
	EUMID           string `json:"eumId,omitempty"`  // default 1.3.6.1.4.1.99999.1
	SMSRID          string `json:"smsrId,omitempty"` // the gateway's SMSRID when empty
	PlatformType    string `json:"platformType,omitempty"`
	PlatformVersion string `json:"platformVersion,omitempty"`
	// RemainingMemory and AvailableMemoryForProfiles are EIS fields in bytes; a download needs the
	// catalogue profile's Size in AvailableMemoryForProfiles, and a delete gives the memory back.
	RemainingMemory            uint64    `json:"remainingMemory,omitempty"`
	AvailableMemoryForProfiles uint64    `json:"availableMemoryForProfiles,omitempty"`
	LastAuditDate              time.Time `json:"lastAuditDate,omitzero"`
	Profiles                   []Profile `json:"profiles,omitempty"`

	// LatencyMillis is how long the simulated eUICC takes to answer an async function. A latency above
	// the request's ValidityPeriod ends the request EXPIRED.
	LatencyMillis int64 `json:"latencyMillis,omitempty"`
	// Unreachable eUICCs never answer: async functions end EXPIRED when their ValidityPeriod runs out.
	Unreachable bool `json:"unreachable,omitempty"`

	smsrChangePrepared bool
}

// Profile returns the profile with the given ICCID.
func (e EUICC) Profile(iccid string) (Profile, bool) {
	for _, p := range e.Profiles {
		if p.ICCID == iccid {
			return p, true
		}
	}
	return Profile{}, false
}

// Enabled returns the enabled profile, if any.
func (e EUICC) Enabled() (Profile, bool) {
	for _, p := range e.Profiles {
		if p.State == StateEnabled {
			return p, true
		}
	}
	return Profile{}, false
}

func (e *EUICC) clone() EUICC {
	c := *e
	c.Profiles = make([]Profile, len(e.Profiles))
	for i, p := range e.Profiles {
		p.POL2 = slices.Clone(p.POL2)
		c.Profiles[i] = p
	}
	return c
}

func (e *EUICC) profile(iccid string) *Profile {
	for i := range e.Profiles {
		if e.Profiles[i].ICCID == iccid {
			return &e.Profiles[i]
		}
	}
	return nil
}

func (e *EUICC) enabled() *Profile {
	for i := range e.Profiles {
		if e.Profiles[i].State == StateEnabled {
			return &e.Profiles[i]
		}
	}
	return nil
}

func (e *EUICC) fallback() *Profile {
	for i := range e.Profiles {
		if e.Profiles[i].Fallback {
			return &e.Profiles[i]
		}
	}
	return nil
}

func (e *EUICC) remove(iccid string) {
	e.Profiles = slices.DeleteFunc(e.Profiles, func(p Profile) bool { return p.ICCID == iccid })
}

// CatalogProfile is a profile the SM-DP can download, by ICCID or by ProfileType. A downloaded entry
// leaves the catalogue.
type CatalogProfile struct {
	ICCID       string `json:"iccid"`
	ProfileType string `json:"profileType"`
	// MNOID is the owner's OID; the gateway's OperatorID when empty. Only the owner may download it.
	MNOID               string              `json:"mnoId,omitempty"`
	Size                uint64              `json:"size,omitempty"` // memory the profile takes; default 65536
	POL2                []POL2Rule          `json:"pol2,omitempty"`
	SubscriptionAddress SubscriptionAddress `json:"subscriptionAddress"`
}

// Seed is the JSON form of an initial state (see LoadSeedJSON).
type Seed struct {
	EUICCs  []EUICC          `json:"euiccs"`
	Catalog []CatalogProfile `json:"catalog"`
}

// The deterministic default seed. EIDs carry valid mod-97 check digits, ICCIDs valid Luhn digits.
//
//	DefaultEID: DefaultEnabledICCID (Enabled), DefaultDisabledICCID (Disabled), FallbackICCID (Disabled,
//	            fall-back attribute), OtherMNOICCID (Disabled, owned by OtherOperatorID)
//	SecondEID:  SecondEnabledICCID (Enabled, fall-back attribute)
//	FullEID:    FullEnabledICCID (Enabled, fall-back); no memory left for a download
//	UnreachableEID: UnreachableICCID (Enabled, fall-back); never answers, so async functions expire
//	catalogue:  CatalogICCID and CatalogICCID2 (CatalogProfileType), OtherMNOCatalogICCID (OtherProfileType,
//	            owned by OtherOperatorID)
const (
	DefaultEID           = "89049032000001000000000000000171"
	DefaultEnabledICCID  = "89310410000000000019"
	DefaultDisabledICCID = "89310410000000000027"
	FallbackICCID        = "89310410000000000035"
	OtherMNOICCID        = "89310410000000000043"

	SecondEID          = "89049032000001000000000000000268"
	SecondEnabledICCID = "89310410000000000050"

	FullEID          = "89049032000001000000000000000365"
	FullEnabledICCID = "89310410000000000068"

	UnreachableEID   = "89049032000001000000000000000462"
	UnreachableICCID = "89310410000000000076"

	CatalogICCID         = "89310410000000001009"
	CatalogICCID2        = "89310410000000001017"
	CatalogProfileType   = "esimgw-test-iot"
	OtherMNOCatalogICCID = "89310410000000001025"
	OtherProfileType     = "other-mno-iot"
)

// Default OIDs of the mock's entities.
const (
	DefaultSMSRID          = "1.3.6.1.4.1.99999.20"
	DefaultSMDPID          = "1.3.6.1.4.1.99999.30"
	DefaultOperatorID      = "1.3.6.1.4.1.99999.10"
	DefaultOtherOperatorID = "1.3.6.1.4.1.99999.11"
	defaultEUMID           = "1.3.6.1.4.1.99999.1"
)

// DefaultProfileSize is the memory a catalogue profile takes unless it says otherwise.
const DefaultProfileSize = 65536

// DefaultSeed returns the default seed (see the constants above).
func DefaultSeed() Seed {
	p := func(iccid string, st ProfileState, fb bool, imsi string) Profile {
		return Profile{ICCID: iccid, State: st, Fallback: fb, ProfileType: CatalogProfileType,
			SubscriptionAddress: SubscriptionAddress{IMSI: imsi, MSISDN: "316" + imsi[len(imsi)-8:]}, AllocatedMemory: DefaultProfileSize}
	}
	other := p(OtherMNOICCID, StateDisabled, false, "204049000000004")
	other.MNOID = DefaultOtherOperatorID
	other.ProfileType = OtherProfileType
	return Seed{
		EUICCs: []EUICC{
			{EID: DefaultEID, Profiles: []Profile{
				p(DefaultEnabledICCID, StateEnabled, false, "204049000000001"),
				p(DefaultDisabledICCID, StateDisabled, false, "204049000000002"),
				p(FallbackICCID, StateDisabled, true, "204049000000003"),
				other,
			}},
			{EID: SecondEID, Profiles: []Profile{p(SecondEnabledICCID, StateEnabled, true, "204049000000005")}},
			{EID: FullEID, AvailableMemoryForProfiles: 1024, RemainingMemory: 1024,
				Profiles: []Profile{p(FullEnabledICCID, StateEnabled, true, "204049000000006")}},
			{EID: UnreachableEID, Unreachable: true, Profiles: []Profile{p(UnreachableICCID, StateEnabled, true, "204049000000007")}},
		},
		Catalog: []CatalogProfile{
			{ICCID: CatalogICCID, ProfileType: CatalogProfileType, SubscriptionAddress: SubscriptionAddress{IMSI: "204049000000101", MSISDN: "31600000101"}},
			{ICCID: CatalogICCID2, ProfileType: CatalogProfileType, SubscriptionAddress: SubscriptionAddress{IMSI: "204049000000102", MSISDN: "31600000102"}},
			{ICCID: OtherMNOCatalogICCID, ProfileType: OtherProfileType, MNOID: DefaultOtherOperatorID},
		},
	}
}

// SeedError reports a seed entry the mock refuses. Use errors.As.
type SeedError struct {
	EID, ICCID string
	Reason     string
}

func (e *SeedError) Error() string {
	s := "gatewaytest: seed"
	if e.EID != "" {
		s += " eUICC " + e.EID
	}
	if e.ICCID != "" {
		s += " profile " + e.ICCID
	}
	return s + ": " + e.Reason
}

// ReadSeed decodes a Seed from JSON, refusing unknown fields.
func ReadSeed(r io.Reader) (Seed, error) {
	var s Seed
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("gatewaytest: seed JSON: %w", err)
	}
	return s, nil
}

// LoadSeedJSON adds the eUICCs and catalogue entries of a JSON Seed to the state.
func (g *Gateway) LoadSeedJSON(r io.Reader) error {
	s, err := ReadSeed(r)
	if err != nil {
		return err
	}
	return g.LoadSeed(s)
}

// LoadSeed adds the eUICCs and catalogue entries of s to the state; nothing is added when one is refused.
func (g *Gateway) LoadSeed(s Seed) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.loadSeedLocked(s)
}

func (g *Gateway) loadSeedLocked(s Seed) error {
	eids, cat := len(g.euiccOrder), len(g.catalogOrder)
	for _, e := range s.EUICCs {
		if err := g.addEUICCLocked(e); err != nil {
			g.truncateLocked(eids, cat)
			return err
		}
	}
	for _, c := range s.Catalog {
		if err := g.addCatalogLocked(c); err != nil {
			g.truncateLocked(eids, cat)
			return err
		}
	}
	return nil
}

// truncateLocked removes the eUICCs and catalogue entries added after the first eids and cat: the undo of
// a refused seed (additions are appended in order, so they are the tail of both orders).
func (g *Gateway) truncateLocked(eids, cat int) {
	for _, eid := range g.euiccOrder[eids:] {
		for _, p := range g.euiccs[eid].Profiles {
			delete(g.installed, p.ICCID)
		}
		delete(g.euiccs, eid)
	}
	g.euiccOrder = slices.Delete(g.euiccOrder, eids, len(g.euiccOrder))
	for _, ic := range g.catalogOrder[cat:] {
		delete(g.catalog, ic)
	}
	g.catalogOrder = slices.Delete(g.catalogOrder, cat, len(g.catalogOrder))
}

// AddEUICC adds an eUICC. Empty fields get defaults: SMSRID the gateway's, MNOID the OperatorID, ISD-P AIDs
// generated, State Disabled, memory 1 MiB.
func (g *Gateway) AddEUICC(e EUICC) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addEUICCLocked(e)
}

func (g *Gateway) addEUICCLocked(e EUICC) error {
	e = e.clone()
	if err := esimgw.ValidateEID(e.EID); err != nil {
		return &SeedError{EID: e.EID, Reason: err.Error()}
	}
	e.EID = strings.ToUpper(e.EID)
	if _, dup := g.euiccs[e.EID]; dup {
		return &SeedError{EID: e.EID, Reason: "EID already present"}
	}
	if e.EUMID == "" {
		e.EUMID = defaultEUMID
	}
	if e.SMSRID == "" {
		e.SMSRID = g.SMSRID
	}
	if e.PlatformType == "" {
		e.PlatformType = "esimgw-mock"
	}
	if e.PlatformVersion == "" {
		e.PlatformVersion = "1.0.0"
	}
	if e.AvailableMemoryForProfiles == 0 && e.RemainingMemory == 0 {
		e.AvailableMemoryForProfiles, e.RemainingMemory = 1<<20, 1<<20
	}
	enabled, fallback := 0, 0
	for i := range e.Profiles {
		p := &e.Profiles[i]
		if err := esimgw.ValidateICCID(p.ICCID); err != nil {
			return &SeedError{EID: e.EID, ICCID: p.ICCID, Reason: err.Error()}
		}
		if other, _ := g.findICCIDLocked(p.ICCID); other != nil {
			return &SeedError{EID: e.EID, ICCID: p.ICCID, Reason: "ICCID already on eUICC " + other.EID}
		}
		for _, q := range e.Profiles[:i] {
			if q.ICCID == p.ICCID {
				return &SeedError{EID: e.EID, ICCID: p.ICCID, Reason: "ICCID twice on the eUICC"}
			}
		}
		switch p.State {
		case "":
			p.State = StateDisabled
		case StateCreated, StateDisabled:
		case StateEnabled:
			enabled++
		default:
			return &SeedError{EID: e.EID, ICCID: p.ICCID, Reason: fmt.Sprintf("unknown state %q", p.State)}
		}
		if p.Fallback {
			fallback++
		}
		for _, r := range p.POL2 {
			if !validPOL2(r) {
				return &SeedError{EID: e.EID, ICCID: p.ICCID, Reason: fmt.Sprintf("bad POL2 rule %+v", r)}
			}
		}
		if p.MNOID == "" {
			p.MNOID = g.OperatorID
		}
		if p.SMDPID == "" {
			p.SMDPID = g.SMDPID
		}
		if p.ISDPAID == "" {
			p.ISDPAID = g.newISDPAIDLocked()
		} else if b, err := hex.DecodeString(p.ISDPAID); err != nil || len(b) < 5 || len(b) > 16 {
			return &SeedError{EID: e.EID, ICCID: p.ICCID, Reason: "ISD-P AID must be 5 to 16 bytes of hex"}
		}
	}
	if enabled > 1 {
		return &SeedError{EID: e.EID, Reason: "more than one enabled profile"}
	}
	if fallback > 1 {
		return &SeedError{EID: e.EID, Reason: "more than one profile with the fall-back attribute"}
	}
	g.euiccs[e.EID] = &e
	g.euiccOrder = append(g.euiccOrder, e.EID)
	for _, p := range e.Profiles {
		g.installed[p.ICCID] = e.EID
	}
	return nil
}

func validPOL2(r POL2Rule) bool {
	return (r.Action == POL2Enable || r.Action == POL2Disable || r.Action == POL2Delete) &&
		(r.Qualification == POL2NotAllowed || r.Qualification == POL2AutoDelete)
}

// AddCatalogProfile adds a downloadable profile.
func (g *Gateway) AddCatalogProfile(p CatalogProfile) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addCatalogLocked(p)
}

func (g *Gateway) addCatalogLocked(p CatalogProfile) error {
	if err := esimgw.ValidateICCID(p.ICCID); err != nil {
		return &SeedError{ICCID: p.ICCID, Reason: err.Error()}
	}
	if p.ProfileType == "" {
		return &SeedError{ICCID: p.ICCID, Reason: "catalogue profile without ProfileType"}
	}
	if _, dup := g.catalog[p.ICCID]; dup {
		return &SeedError{ICCID: p.ICCID, Reason: "ICCID already in the catalogue"}
	}
	if e, _ := g.findICCIDLocked(p.ICCID); e != nil {
		return &SeedError{ICCID: p.ICCID, Reason: "ICCID already installed on eUICC " + e.EID}
	}
	if p.MNOID == "" {
		p.MNOID = g.OperatorID
	}
	if p.Size == 0 {
		p.Size = DefaultProfileSize
	}
	p.POL2 = slices.Clone(p.POL2)
	g.catalog[p.ICCID] = &p
	g.catalogOrder = append(g.catalogOrder, p.ICCID)
	return nil
}

// findICCIDLocked returns the eUICC a profile is installed on, through the ICCID index (a fleet of 100k
// eUICCs is seeded in linear time).
func (g *Gateway) findICCIDLocked(iccid string) (*EUICC, *Profile) {
	e := g.euiccs[g.installed[iccid]]
	if e == nil {
		return nil, nil
	}
	return e, e.profile(iccid)
}

func (g *Gateway) newISDPAIDLocked() string {
	g.nextAID++
	return fmt.Sprintf("A0000005591010FFFFFFFF89%08X", g.nextAID)
}

// EUICC returns a copy of the state of one eUICC.
func (g *Gateway) EUICC(eid string) (EUICC, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.euiccs[strings.ToUpper(eid)]
	if !ok {
		return EUICC{}, false
	}
	return e.clone(), true
}

// EUICCs returns copies of every eUICC, in the order they were added.
func (g *Gateway) EUICCs() []EUICC {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]EUICC, 0, len(g.euiccOrder))
	for _, eid := range g.euiccOrder {
		out = append(out, g.euiccs[eid].clone())
	}
	return out
}

// Catalog returns copies of the catalogue entries not downloaded yet.
func (g *Gateway) Catalog() []CatalogProfile {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]CatalogProfile, 0, len(g.catalogOrder))
	for _, ic := range g.catalogOrder {
		c := *g.catalog[ic]
		c.POL2 = slices.Clone(c.POL2)
		out = append(out, c)
	}
	return out
}

// ErrUnknownEID is returned by the state setters for an EID the mock does not hold.
var ErrUnknownEID = errors.New("gatewaytest: unknown EID")

// SetLatency sets how long the simulated eUICC takes to answer async functions.
func (g *Gateway) SetLatency(eid string, d time.Duration) error {
	return g.withEUICC(eid, func(e *EUICC) { e.LatencyMillis = d.Milliseconds() })
}

// SetReachable makes the simulated eUICC answer (true) or never answer (false).
func (g *Gateway) SetReachable(eid string, reachable bool) error {
	return g.withEUICC(eid, func(e *EUICC) { e.Unreachable = !reachable })
}

// SetAvailableMemory sets the eUICC's AvailableMemoryForProfiles (and RemainingMemory).
func (g *Gateway) SetAvailableMemory(eid string, bytes uint64) error {
	return g.withEUICC(eid, func(e *EUICC) { e.AvailableMemoryForProfiles, e.RemainingMemory = bytes, bytes })
}

func (g *Gateway) withEUICC(eid string, f func(*EUICC)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.euiccs[strings.ToUpper(eid)]
	if !ok {
		return fmt.Errorf("%w %s", ErrUnknownEID, eid)
	}
	f(e)
	return nil
}

// eis builds the EIS of e; only profiles owned by owner are listed when owner is not empty, and only those
// in iccids when that is not empty.
func (g *Gateway) eisLocked(e *EUICC, owner string, iccids []string) *rps.EISType {
	eid, _ := hex.DecodeString(e.EID)
	aid := func(s string) rps.HexBinary { b, _ := hex.DecodeString(s); return b }
	isdr := rps.SecurityDomainType{AID: aid("A0000005591010FFFFFFFF8900000100"), Sin: aid("0102"), Sdin: aid("0304"),
		Role: rps.SecurityDomainRoleTypeISDR, Keyset: []rps.KeySetType{{Version: 1, Type: rps.KeysetTypeTypeSCP80}}}
	ecasd := rps.SecurityDomainType{AID: aid("A0000005591010FFFFFFFF8900000200"), Sin: aid("0102"), Sdin: aid("0304"),
		Role: rps.SecurityDomainRoleTypeECASD, Keyset: []rps.KeySetType{{Version: 1, Type: rps.KeysetTypeTypeCA}}}
	out := &rps.EISType{
		EumSignedInfo: rps.EumSignedInfoType{
			Eid: eid, EumID: e.EUMID, ProductionDate: rps.NewDateTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)),
			PlatformType: e.PlatformType, PlatformVersion: e.PlatformVersion,
			IsdPLoadfileAID: aid("A0000005591010FFFFFFFF8900000D00"), IsdPModuleAID: aid("A0000005591010FFFFFFFF8900000E00"),
			Ecasd: ecasd,
			EuiccCapabilities: rps.EuiccCapabilitiesType{CattpSupport: false, HttpSupport: true, HttpVersion: "1.1.0",
				SecurePacketVersion: "1.0.0", RemoteProvisioningVersion: "3.2.0"},
		},
		EumSignature:               rps.RawXML{Inner: []byte(`<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">AA==</ds:SignatureValue>`)},
		RemainingMemory:            rps.NonNegativeInteger(e.RemainingMemory),
		AvailableMemoryForProfiles: rps.NonNegativeInteger(e.AvailableMemoryForProfiles),
		SmsrID:                     e.SMSRID,
		IsdR:                       isdr,
	}
	if !e.LastAuditDate.IsZero() {
		d := rps.NewDateTime(e.LastAuditDate)
		out.LastAuditDate = &d
	}
	for _, p := range e.Profiles {
		if owner != "" && p.MNOID != owner {
			continue
		}
		if len(iccids) > 0 && !slices.Contains(iccids, p.ICCID) {
			continue
		}
		pi := rps.ProfileInfoType{
			Iccid: p.ICCID, IsdPAID: aid(p.ISDPAID), MnoID: p.MNOID, FallbackAttribute: p.Fallback,
			SubscriptionAddress: rps.SubscriptionAddressType{Imsi: p.SubscriptionAddress.IMSI, Msisdn: p.SubscriptionAddress.MSISDN},
			State:               rps.ProfileStateType(p.State), SmdpID: p.SMDPID, ProfileType: p.ProfileType,
			AllocatedMemory: rps.NonNegativeInteger(p.AllocatedMemory),
		}
		for _, r := range p.POL2 {
			pi.Pol2.Rule = append(pi.Pol2.Rule, rps.POL2RuleType{Subject: rps.POL2SubjectTypePROFILE,
				Action: rps.POL2ActionType(r.Action), Qualification: rps.POL2QualificationType(r.Qualification)})
		}
		out.ProfileInfo = append(out.ProfileInfo, pi)
	}
	return out
}
