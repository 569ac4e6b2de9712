package es2plus

import (
	"strconv"
	"strings"
)

// Path is where SGP.22 SM-DP+ servers POST HandleDownloadProgressInfo.
const Path = "/gsma/rsp2/es2plus/handleDownloadProgressInfo"

// AdminProtocol is the X-Admin-Protocol value this package sends (SGP.22
// v2.5, as pySim). Receivers accept any "gsma/rsp/v2." prefix.
const AdminProtocol = "gsma/rsp/v2.5.0"

// Status is notificationPointStatus.status (and functionExecutionStatus.status).
type Status string

// The four statuses SGP.22 defines.
const (
	StatusSuccess     Status = "Executed-Success"
	StatusWithWarning Status = "Executed-WithWarning"
	StatusFailed      Status = "Failed"
	StatusExpired     Status = "Expired"
)

// canonicalStatus maps a status of any case onto its canonical spelling.
func canonicalStatus(s string) (Status, bool) {
	for _, c := range [...]Status{StatusSuccess, StatusWithWarning, StatusFailed, StatusExpired} {
		if strings.EqualFold(s, string(c)) {
			return c, true
		}
	}
	return "", false
}

// Executed reports whether the step was executed (with or without warning).
func (s Status) Executed() bool { return s == StatusSuccess || s == StatusWithWarning }

// NotificationPoint is notificationPointId: the step of a download that an
// SM-DP+ reports. Unknown values are kept as they are, never rejected.
type NotificationPoint int

// Notification points. 1-4 are SGP.22's; 6-8 follow Telna's documentation
// (local enable, disable, delete) and are unverified against SGP.22 (see
// docs/es2plus.md section 3): their names come from [NotificationPoint.Name], a table
// that can be corrected without an API change.
const (
	PointEligibilityRetryLimit     NotificationPoint = 1 // download retries exhausted (sent on failure)
	PointConfirmationRetryExceeded NotificationPoint = 2 // confirmation-code retry limit exceeded
	PointBPPDownloaded             NotificationPoint = 3 // bound profile package downloaded to the device
	PointBPPInstalled              NotificationPoint = 4 // BPP installation; result in resultData
	PointEnabled                   NotificationPoint = 6 // profile enabled locally on the device
	PointDisabled                  NotificationPoint = 7 // profile disabled locally
	PointDeleted                   NotificationPoint = 8 // profile deleted locally
)

// Name returns a short name for the point, or "" when unknown. Points 5-8
// are not verified against SGP.22; this table is the one place to correct.
func (p NotificationPoint) Name() string {
	switch p {
	case PointEligibilityRetryLimit:
		return "eligibility-and-retry-limit"
	case PointConfirmationRetryExceeded:
		return "confirmation-failure"
	case PointBPPDownloaded:
		return "bpp-download"
	case PointBPPInstalled:
		return "bpp-installation"
	case 5:
		return "" // unknown: one vendor uses 5 = deleted, ostelco treats it as non-standard
	case PointEnabled:
		return "local-enable"
	case PointDisabled:
		return "local-disable"
	case PointDeleted:
		return "local-delete"
	default:
		return ""
	}
}

// Description returns a sentence describing the point ("" when unknown).
func (p NotificationPoint) Description() string {
	switch p {
	case PointEligibilityRetryLimit:
		return "eligibility and retry limit check: download retries exhausted"
	case PointConfirmationRetryExceeded:
		return "confirmation failure: confirmation code retry limit exceeded"
	case PointBPPDownloaded:
		return "bound profile package downloaded to the device"
	case PointBPPInstalled:
		return "bound profile package installation on the eUICC"
	case PointEnabled:
		return "profile enabled locally"
	case PointDisabled:
		return "profile disabled locally"
	case PointDeleted:
		return "profile deleted locally"
	default:
		return ""
	}
}

// Known reports whether the point has a name.
func (p NotificationPoint) Known() bool { return p.Name() != "" }

// String returns "3 (bpp-download)", or "101" for an unknown point.
func (p NotificationPoint) String() string {
	if n := p.Name(); n != "" {
		return strconv.Itoa(int(p)) + " (" + n + ")"
	}
	return strconv.Itoa(int(p))
}
