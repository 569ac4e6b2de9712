package es2plus

import (
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The structures below follow SGP.22's RSPDefinitions module (DEFINITIONS
// AUTOMATIC TAGS), as read in osmocom/pysim pySim/esim/asn1/rsp/rsp.asn
// (ProfileInstallationResult, ProfileInstallationResultData, SuccessResult,
// ErrorResult, BppCommandId, ErrorReason, NotificationMetadata). The
// effective tags were cross-checked against the asn1c output in
// estkme-group/lpac euicc/asn1c/asn1/ProfileInstallationResultData.c,
// SuccessResult.c and ErrorResult.c:
//
//	ProfileInstallationResult      BF37 { BF27 ..., euiccSignPIR 5F37 }
//	ProfileInstallationResultData  BF27 {
//	    transactionId        80 OCTET STRING
//	    notificationMetadata BF2F { seqNumber 80, profileManagementOperation 81 BIT STRING,
//	                                notificationAddress 0C UTF8String, iccid 5A OPTIONAL }
//	    smdpOid              06 OPTIONAL
//	    finalResult          A2 (explicit, CHOICE) {
//	        successResult A0 { aid 4F, simaResponse 04 }
//	        errorResult   A1 { bppCommandId 80, errorReason 81, simaResponse 82 OPTIONAL } } }
//
// The code is ours: a small TLV reader, since BF37/BF27 are multi-byte
// context tags that encoding/asn1 handles poorly.

// DER tags used by the result data (their encoded bytes).
const (
	tagPIR          = 0xBF37
	tagPIRData      = 0xBF27
	tagSignature    = 0x5F37
	tagTransaction  = 0x80
	tagMetadata     = 0xBF2F
	tagOID          = 0x06
	tagFinalResult  = 0xA2
	tagSuccess      = 0xA0
	tagError        = 0xA1
	tagAID          = 0x4F
	tagOctetString  = 0x04
	tagCtx0         = 0x80
	tagCtx1         = 0x81
	tagCtx2         = 0x82
	tagUTF8String   = 0x0C
	tagICCID        = 0x5A
	maxTagBytes     = 4
	maxIntegerBytes = 8
)

// BPPCommandID is ErrorResult.bppCommandId: the bound profile package
// command that failed.
type BPPCommandID int64

// BPP commands (SGP.22 BppCommandId).
const (
	BPPInitialiseSecureChannel BPPCommandID = 0
	BPPConfigureISDP           BPPCommandID = 1
	BPPStoreMetadata           BPPCommandID = 2
	BPPStoreMetadata2          BPPCommandID = 3
	BPPReplaceSessionKeys      BPPCommandID = 4
	BPPLoadProfileElements     BPPCommandID = 5
)

// Name returns SGP.22's name for the command, or "" when unknown.
func (c BPPCommandID) Name() string {
	switch c {
	case BPPInitialiseSecureChannel:
		return "initialiseSecureChannel"
	case BPPConfigureISDP:
		return "configureISDP"
	case BPPStoreMetadata:
		return "storeMetadata"
	case BPPStoreMetadata2:
		return "storeMetadata2"
	case BPPReplaceSessionKeys:
		return "replaceSessionKeys"
	case BPPLoadProfileElements:
		return "loadProfileElements"
	}
	return ""
}

// String returns the name, or "unknown(n)".
func (c BPPCommandID) String() string { return nameOr(c.Name(), int64(c)) }

// ErrorReason is ErrorResult.errorReason.
type ErrorReason int64

// Name returns SGP.22's name for the reason, or "" when unknown. Values 7
// and 8 were renamed bspStructureError/bspSecurityError in SGP.22 v3; 13 is
// installFailedDueToIccidMismatch in SGP.22 v2.0/v2.1 (as pySim's rsp.asn)
// and installFailedDueToDataMismatch from v2.2.
func (r ErrorReason) Name() string {
	switch r {
	case 1:
		return "incorrectInputValues"
	case 2:
		return "invalidSignature"
	case 3:
		return "invalidTransactionId"
	case 4:
		return "unsupportedCrtValues"
	case 5:
		return "unsupportedRemoteOperationType"
	case 6:
		return "unsupportedProfileClass"
	case 7:
		return "scp03tStructureError"
	case 8:
		return "scp03tSecurityError"
	case 9:
		return "installFailedDueToIccidAlreadyExistsOnEuicc"
	case 10:
		return "installFailedDueToInsufficientMemoryForProfile"
	case 11:
		return "installFailedDueToInterruption"
	case 12:
		return "installFailedDueToPEProcessingError"
	case 13:
		return "installFailedDueToDataMismatch"
	case 14:
		return "testProfileInstallFailedDueToInvalidNaaKey"
	case 15:
		return "pprNotAllowed"
	case 26:
		return "unknownTlvInMetadata"
	case 31:
		return "installFailedDueToInsufficientMinimumSecurityLevel"
	case 32:
		return "installFailedDueToServerAddressAbsentInEuiccAllowList"
	case 127:
		return "installFailedDueToUnknownError"
	}
	return ""
}

// String returns the name, or "unknown(n)".
func (r ErrorReason) String() string { return nameOr(r.Name(), int64(r)) }

func nameOr(name string, v int64) string {
	if name != "" {
		return name
	}
	return "unknown(" + strconv.FormatInt(v, 10) + ")"
}

// NotificationMetadata is the eUICC's notification metadata.
type NotificationMetadata struct {
	SeqNumber int64
	// Operation is the raw NotificationEvent BIT STRING content (first byte:
	// unused bits); bit 0 install, 1 enable, 2 disable, 3 delete.
	Operation []byte
	Address   string // notificationAddress (SM-DP+ FQDN)
	ICCID     string // decoded from BCD, "" when absent
}

// InstallError is ErrorResult.
type InstallError struct {
	BPPCommandID BPPCommandID
	ErrorReason  ErrorReason
	SIMAResponse []byte // nil when absent
}

// ProfileInstallationResult is a parsed resultData.
type ProfileInstallationResult struct {
	TransactionID []byte
	Notification  NotificationMetadata
	SMDPOID       string // dotted, "" when absent

	Success      bool
	AID          []byte        // ISD-P AID on success
	SIMAResponse []byte        // simaResponse on success
	Error        *InstallError // on failure

	// Signature is euiccSignPIR when resultData held the whole
	// ProfileInstallationResult (BF37), else nil. It is not verified.
	Signature []byte
	// Raw is the DER that was parsed.
	Raw []byte
}

// Summary returns "success" or "bppCommandId=... errorReason=...".
func (r *ProfileInstallationResult) Summary() string {
	if r.Success {
		return "success aid=" + strings.ToUpper(hex.EncodeToString(r.AID))
	}
	if r.Error == nil {
		return "error"
	}
	return "bppCommandId=" + r.Error.BPPCommandID.String() + " errorReason=" + r.Error.ErrorReason.String()
}

// Errors wrapped by *ResultDataError.
var (
	ErrTruncated = errors.New("truncated DER")
	ErrMalformed = errors.New("malformed DER")
)

// ResultDataError says why resultData did not parse. Raw is the input.
type ResultDataError struct {
	Offset int    // byte offset in Raw where parsing stopped
	Reason string // what was wrong
	Err    error  // ErrTruncated or ErrMalformed
	Raw    []byte
}

func (e *ResultDataError) Error() string {
	return fmt.Sprintf("es2plus: resultData: %v at offset %d: %s", e.Err, e.Offset, e.Reason)
}

func (e *ResultDataError) Unwrap() error { return e.Err }

// tlv is one decoded element.
type tlv struct {
	tag         uint32
	constructed bool
	off         int // offset of the tag in the whole input
	value       []byte
	valueOff    int // offset of the value in the whole input
	full        []byte
}

type tlvReader struct {
	data []byte
	pos  int
	base int // offset of data[0] in the whole input
}

func (r *tlvReader) more() bool { return r.pos < len(r.data) }

func (r *tlvReader) fail(err error, reason string) error {
	return &ResultDataError{Offset: r.base + r.pos, Err: err, Reason: reason}
}

func (r *tlvReader) next() (tlv, error) {
	start := r.pos
	d := r.data
	if r.pos >= len(d) {
		return tlv{}, r.fail(ErrTruncated, "missing tag")
	}
	first := d[r.pos]
	t := tlv{off: r.base + start, constructed: first&0x20 != 0, tag: uint32(first)}
	r.pos++
	if first&0x1F == 0x1F { // high tag number form
		for n := 1; ; n++ {
			if r.pos >= len(d) {
				return tlv{}, r.fail(ErrTruncated, "tag cut short")
			}
			if n >= maxTagBytes {
				return tlv{}, r.fail(ErrMalformed, "tag too long")
			}
			b := d[r.pos]
			r.pos++
			t.tag = t.tag<<8 | uint32(b)
			if b&0x80 == 0 {
				break
			}
		}
	}
	if r.pos >= len(d) {
		return tlv{}, r.fail(ErrTruncated, "missing length")
	}
	l := int(d[r.pos])
	r.pos++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 {
			return tlv{}, r.fail(ErrMalformed, "indefinite length is not DER")
		}
		if n > 3 {
			return tlv{}, r.fail(ErrMalformed, "length too large")
		}
		if r.pos+n > len(d) {
			return tlv{}, r.fail(ErrTruncated, "length cut short")
		}
		l = 0
		for range n {
			l = l<<8 | int(d[r.pos])
			r.pos++
		}
	}
	if l > len(d)-r.pos {
		return tlv{}, r.fail(ErrTruncated, fmt.Sprintf("element %X wants %d bytes, %d left", t.tag, l, len(d)-r.pos))
	}
	t.valueOff = r.base + r.pos
	t.value = d[r.pos : r.pos+l]
	r.pos += l
	t.full = d[start:r.pos]
	return t, nil
}

func (t tlv) children() *tlvReader { return &tlvReader{data: t.value, base: t.valueOff} }

func (t tlv) fail(err error, reason string) error {
	return &ResultDataError{Offset: t.off, Err: err, Reason: reason}
}

func (t tlv) integer(name string) (int64, error) {
	if len(t.value) == 0 || len(t.value) > maxIntegerBytes {
		return 0, t.fail(ErrMalformed, name+": bad INTEGER length")
	}
	v := int64(int8(t.value[0])) // sign-extend
	for _, b := range t.value[1:] {
		v = v<<8 | int64(b)
	}
	return v, nil
}

// ParseResultData parses resultData: the DER of ProfileInstallationResultData
// (BF27), or of a whole ProfileInstallationResult (BF37). Errors are
// *ResultDataError (with Raw set); it never panics on any input.
func ParseResultData(der []byte) (*ProfileInstallationResult, error) {
	res, err := parseResultData(der)
	if err != nil {
		var rde *ResultDataError
		if errors.As(err, &rde) {
			rde.Raw = der
		}
		return nil, err
	}
	res.Raw = der
	return res, nil
}

func parseResultData(der []byte) (*ProfileInstallationResult, error) {
	r := &tlvReader{data: der}
	top, err := r.next()
	if err != nil {
		return nil, err
	}
	if r.more() {
		return nil, r.fail(ErrMalformed, "trailing bytes after the result")
	}
	res := &ProfileInstallationResult{}
	switch top.tag {
	case tagPIRData:
		return res, parsePIRData(top, res)
	case tagPIR:
		c := top.children()
		var seen bool
		for c.more() {
			el, err := c.next()
			if err != nil {
				return nil, err
			}
			switch el.tag {
			case tagPIRData:
				if err := parsePIRData(el, res); err != nil {
					return nil, err
				}
				seen = true
			case tagSignature:
				res.Signature = el.value
			}
		}
		if !seen {
			return nil, top.fail(ErrMalformed, "ProfileInstallationResult without profileInstallationResultData (BF27)")
		}
		return res, nil
	default:
		return nil, top.fail(ErrMalformed, fmt.Sprintf("want tag BF27 or BF37, got %X", top.tag))
	}
}

func parsePIRData(t tlv, res *ProfileInstallationResult) error {
	if !t.constructed {
		return t.fail(ErrMalformed, "profileInstallationResultData is not constructed")
	}
	c := t.children()
	var haveTx, haveFinal bool
	for c.more() {
		el, err := c.next()
		if err != nil {
			return err
		}
		switch el.tag {
		case tagTransaction:
			res.TransactionID = el.value
			haveTx = true
		case tagMetadata:
			if err := parseMetadata(el, &res.Notification); err != nil {
				return err
			}
		case tagOID:
			var oid asn1.ObjectIdentifier
			if rest, err := asn1.Unmarshal(el.full, &oid); err != nil || len(rest) != 0 {
				return el.fail(ErrMalformed, "smdpOid: bad OBJECT IDENTIFIER")
			}
			res.SMDPOID = oid.String()
		case tagFinalResult:
			if err := parseFinalResult(el, res); err != nil {
				return err
			}
			haveFinal = true
		default:
			// EXTENSIBILITY IMPLIED: later versions may add elements.
		}
	}
	switch {
	case !haveTx:
		return t.fail(ErrMalformed, "transactionId (80) missing")
	case !haveFinal:
		return t.fail(ErrMalformed, "finalResult (A2) missing")
	}
	return nil
}

func parseMetadata(t tlv, m *NotificationMetadata) error {
	c := t.children()
	for c.more() {
		el, err := c.next()
		if err != nil {
			return err
		}
		switch el.tag {
		case tagCtx0:
			if m.SeqNumber, err = el.integer("seqNumber"); err != nil {
				return err
			}
		case tagCtx1:
			m.Operation = el.value
		case tagUTF8String:
			m.Address = string(el.value)
		case tagICCID:
			m.ICCID = decodeBCDSwapped(el.value)
		}
	}
	return nil
}

func parseFinalResult(t tlv, res *ProfileInstallationResult) error {
	c := t.children()
	choice, err := c.next()
	if err != nil {
		return err
	}
	cc := choice.children()
	switch choice.tag {
	case tagSuccess:
		res.Success = true
		var haveAID bool
		for cc.more() {
			el, err := cc.next()
			if err != nil {
				return err
			}
			switch el.tag {
			case tagAID:
				res.AID = el.value
				haveAID = true
			case tagOctetString:
				res.SIMAResponse = el.value
			}
		}
		if !haveAID {
			return choice.fail(ErrMalformed, "successResult without aid (4F)")
		}
	case tagError:
		e := &InstallError{BPPCommandID: -1, ErrorReason: -1}
		var haveCmd, haveReason bool
		for cc.more() {
			el, err := cc.next()
			if err != nil {
				return err
			}
			switch el.tag {
			case tagCtx0:
				v, err := el.integer("bppCommandId")
				if err != nil {
					return err
				}
				e.BPPCommandID, haveCmd = BPPCommandID(v), true
			case tagCtx1:
				v, err := el.integer("errorReason")
				if err != nil {
					return err
				}
				e.ErrorReason, haveReason = ErrorReason(v), true
			case tagCtx2:
				e.SIMAResponse = el.value
			}
		}
		if !haveCmd || !haveReason {
			return choice.fail(ErrMalformed, "errorResult without bppCommandId (80) or errorReason (81)")
		}
		res.Error = e
	default:
		return choice.fail(ErrMalformed, fmt.Sprintf("finalResult: want A0 or A1, got %X", choice.tag))
	}
	return nil
}

// decodeBCDSwapped decodes an EF.ICCID-style value (nibbles swapped, F
// padding) into digits.
func decodeBCDSwapped(b []byte) string {
	var sb strings.Builder
	for _, x := range b {
		for _, n := range [2]byte{x & 0x0F, x >> 4} {
			switch {
			case n <= 9:
				sb.WriteByte('0' + n)
			case n == 0xF:
				// padding
			default:
				sb.WriteByte("0123456789ABCDEF"[n])
			}
		}
	}
	return sb.String()
}
