package esimgw

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/esimgw/esimgw/correlate"
)

// Platform names a kind of back end that manages eUICC profiles.
type Platform string

// The platforms esimgw speaks to.
const (
	PlatformES2        Platform = "ES2"        // SGP.02 ES2, operator to SM-DP (package es2)
	PlatformES4        Platform = "ES4"        // SGP.02 ES4, operator to SM-SR (package es4)
	PlatformThingSpace Platform = "ThingSpace" // Verizon ThingSpace M2M eUICC profile actions (package thingspace)
	PlatformDigiRM     Platform = "DigiRM"     // Digi Remote Manager v1/esim_profiles (package digirm)
)

// Field names of the *ValidationError values about ProfileRef and DownloadSpec fields that are not
// SGP.02 elements.
const (
	FieldAccount        = "Account"
	FieldActivationCode = "ActivationCode"
	FieldDeviceID       = "DeviceID"
)

// ProfileRef names one profile on one eUICC, as every platform's profile actions take it.
type ProfileRef struct {
	EID   string // 32 hex digits (ValidateEID)
	ICCID string // ValidateICCID
	// Account is the billing account on platforms that have several per client (ThingSpace's
	// accountName). "" means the client's default. A platform without accounts refuses any other value,
	// so that a request meant for one account never runs under another.
	Account string
	// DeviceID is the platform's device identifier where it has one (Digi Remote Manager's device_id).
	// Optional; platforms without one ignore it.
	DeviceID string
}

// Validate checks the EID and ICCID, as every ProfileManager does before sending anything.
func (r ProfileRef) Validate() error {
	if err := ValidateEID(r.EID); err != nil {
		return err
	}
	return ValidateICCID(r.ICCID)
}

// ProfileManager is what every platform that manages eUICC profiles does alike: enable, disable and
// delete a profile, each an Operation whose *Result (or *FunctionError) arrives later. The SGP.02 clients
// (es2, es4: their Manager method), thingspace.Client and digirm.Client implement it, so code written
// against it runs on any of them; what only one platform has stays on its concrete client.
//
// Every method validates its ProfileRef first and returns a *ValidationError with nothing sent. A
// failed function is a *FunctionError from Wait, whatever the platform: its Interface is the Platform
// and its Subject/Reason the SGP.02 codes when the platform reports them (ThingSpace's euiccStatusCode).
type ProfileManager interface {
	Platform() Platform
	Enable(ctx context.Context, ref ProfileRef) (*Operation[*Result], error)
	Disable(ctx context.Context, ref ProfileRef) (*Operation[*Result], error)
	Delete(ctx context.Context, ref ProfileRef) (*Operation[*Result], error)
}

// DownloadSpec says what to download to which eUICC, for ProfileDownloader. Which of ICCID, ProfileType
// and ActivationCode a platform takes is its own: ES2 one of ICCID and ProfileType, ThingSpace the
// ICCID, Digi Remote Manager the ICCID (for a registered activation code) or the ActivationCode.
type DownloadSpec struct {
	EID            string
	ICCID          string
	ProfileType    string
	ActivationCode string
	// Enable asks for the profile to be enabled once installed (ES2 EnableProfile=true, ThingSpace
	// download_enable; Digi Remote Manager runs an enable transaction after the download).
	Enable   bool
	Account  string // as in ProfileRef
	DeviceID string // as in ProfileRef
}

// ProfileDownloader is a ProfileManager that can also download profiles (es2, thingspace, digirm; an
// SM-SR cannot).
type ProfileDownloader interface {
	ProfileManager
	Download(ctx context.Context, spec DownloadSpec) (*Operation[*DownloadResult], error)
}

// ProfileState is a profile's state on its eUICC, the same words on every platform.
type ProfileState string

// Profile states.
const (
	ProfileStateEnabled  ProfileState = "enabled"
	ProfileStateDisabled ProfileState = "disabled"
	ProfileStateCreated  ProfileState = "created" // SGP.02: installed but not yet personalised
	ProfileStateUnknown  ProfileState = "unknown"
)

// ProfileInfo is one profile as an audit or inventory reports it.
type ProfileInfo struct {
	ICCID    string
	State    ProfileState
	Type     string // SGP.02 ProfileType; Digi's type (operational, bootstrap, test)
	Fallback bool   // SGP.02 fall-back attribute
	Carrier  string // Digi's carrier (SPN); "" elsewhere
}

// AuditResult is the result of ProfileAuditor.Audit.
type AuditResult struct {
	Result
	EID      string
	Profiles []ProfileInfo
}

// Profile returns the profile with the given ICCID, if listed.
func (r *AuditResult) Profile(iccid string) (ProfileInfo, bool) {
	for _, p := range r.Profiles {
		if p.ICCID == iccid {
			return p, true
		}
	}
	return ProfileInfo{}, false
}

// ProfileAuditor is a ProfileManager that can list the profiles on an eUICC: ES4 AuditEIS (the SM-SR
// reads the eUICC), ES2 GetEIS (what the SM-SR holds), Digi Remote Manager's inventory (what the devices
// reported). ThingSpace's profile API has no such query.
type ProfileAuditor interface {
	ProfileManager
	Audit(ctx context.Context, eid string) (*Operation[*AuditResult], error)
}

// CompletedOperation returns an Operation that is already resolved with v and err: the shape a
// ProfileManager returns for a platform whose answer to a call is the result itself (ES2 GetEIS, an
// inventory query). key names the call for reporting; a MessageID is made up when it has none.
func CompletedOperation[T any](key correlate.OperationKey, v T, err error) *Operation[T] {
	if key.MessageID == "" {
		key.MessageID = "completed:" + strconv.FormatUint(rand.Uint64(), 36) // looked up by nobody
	}
	t := correlate.NewTracker(correlate.WithDuplicateWindow(0, 0))
	p, rerr := t.Register(key)
	if rerr != nil { // not reachable: a fresh tracker and a non-empty MessageID
		return NewOperation[T](nil, nil, nil)
	}
	t.Resolve(p, v, err)
	return NewOperation(t, p, func(value any, err error) (T, error) {
		r, _ := value.(T)
		return r, err
	})
}

// AuditResultOfEIS converts the EIS of an ES2 GetEIS or ES4 AuditEIS result.
func AuditResultOfEIS(eid string, r *EISResult) *AuditResult {
	if r == nil {
		return nil
	}
	out := &AuditResult{Result: r.Result, EID: eid}
	if r.EIS == nil {
		return out
	}
	for _, p := range r.EIS.ProfileInfo {
		st := ProfileStateUnknown
		switch p.State {
		case "Enabled":
			st = ProfileStateEnabled
		case "Disabled":
			st = ProfileStateDisabled
		case "Created":
			st = ProfileStateCreated
		}
		out.Profiles = append(out.Profiles, ProfileInfo{ICCID: p.Iccid, State: st, Type: p.ProfileType, Fallback: p.FallbackAttribute})
	}
	return out
}

// ValidateNoAccount refuses a ProfileRef or DownloadSpec Account on a platform that has none (the
// SGP.02 clients, Digi Remote Manager): platform names it in the error.
func ValidateNoAccount(platform Platform, account string) error {
	if account == "" {
		return nil
	}
	return &ValidationError{Field: FieldAccount, Value: account,
		Rule: "unknown account: " + string(platform) + " clients have no accounts to choose; leave it empty"}
}

// MaxActivationCodeLength bounds an activation code: SGP.22 limits the whole code to 255 characters.
const MaxActivationCodeLength = 255

// ValidateActivationCode checks an activation code: 1 to 255 printable ASCII characters without blanks
// around them. A code in the SGP.22 form (it contains '$', optionally after "LPA:") must have a format
// "1", an SM-DP+ address and a matching ID field (which SGP.22 lets be empty): "1$smdp.example.com$ABC-123". Anything else is taken
// as the bare secret some platforms issue and is only checked for form.
func ValidateActivationCode(code string) error {
	bad := func(rule string) error {
		return &ValidationError{Field: FieldActivationCode, Value: code, Rule: rule}
	}
	switch {
	case code == "":
		return bad("must not be empty")
	case strings.TrimSpace(code) != code:
		return bad("must not start or end with blanks")
	case len(code) > MaxActivationCodeLength:
		return bad("must be at most " + strconv.Itoa(MaxActivationCodeLength) + " characters, got " + strconv.Itoa(len(code)))
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; c < 0x20 || c > 0x7e {
			return bad("must be printable ASCII (bad character at position " + strconv.Itoa(i+1) + ")")
		}
	}
	ac := strings.TrimPrefix(code, "LPA:")
	if !strings.Contains(ac, "$") {
		if ac == "" {
			return bad(`must not be empty after "LPA:"`)
		}
		return nil
	}
	parts := strings.Split(ac, "$")
	switch {
	case parts[0] != "1":
		return bad(`SGP.22 form must start with format "1$"`)
	case len(parts) < 3:
		return bad("SGP.22 form must be 1$<SM-DP+ address>$<matching ID>")
	case parts[1] == "" || strings.ContainsAny(parts[1], " /"):
		return bad("SM-DP+ address must be a host name")
	}
	return nil
}
