package progress

import (
	"fmt"
	"strings"
	"time"
)

// Stage is a step of a profile's provisioning life cycle. The order of the
// constants is the order of a normal download; [StageFailed] and
// [StageExpired] are outcomes, not steps.
type Stage int

// Stages, in life-cycle order.
const (
	StageUnknown    Stage = iota // not set
	StageRequested               // a download/install was ordered (SGP.02 DownloadProfile, ES2+ DownloadOrder...)
	StageDownloaded              // the bound profile package reached the device (ES2+ point 3)
	StageInstalled               // the profile is installed on the eUICC (ES2+ point 4, SGP.02 download result)
	StageEnabled                 // the profile was enabled
	StageDisabled                // the profile was disabled
	StageDeleted                 // the profile was deleted
	StageFailed                  // the last attempted step failed
	StageExpired                 // the operation expired before completing
)

var stageNames = [...]string{
	StageUnknown:    "Unknown",
	StageRequested:  "Requested",
	StageDownloaded: "Downloaded",
	StageInstalled:  "Installed",
	StageEnabled:    "Enabled",
	StageDisabled:   "Disabled",
	StageDeleted:    "Deleted",
	StageFailed:     "Failed",
	StageExpired:    "Expired",
}

// String returns the stage's name, or "Stage(n)" for an unknown value.
func (s Stage) String() string {
	if s >= 0 && int(s) < len(stageNames) {
		return stageNames[s]
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// MarshalText encodes the stage as its name (for JSON dashboards).
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a stage name as written by MarshalText (any case).
func (s *Stage) UnmarshalText(b []byte) error {
	for i, n := range stageNames {
		if strings.EqualFold(n, string(b)) {
			*s = Stage(i)
			return nil
		}
	}
	return fmt.Errorf("progress: unknown stage %q", b)
}

// Failure reports whether the stage is one of the failure outcomes.
func (s Stage) Failure() bool { return s == StageFailed || s == StageExpired }

// Outcome summarises where a profile's download stands.
type Outcome int

// Outcomes.
const (
	OutcomePending   Outcome = iota // requested or in flight
	OutcomeSucceeded                // installed (and possibly enabled, disabled or deleted since)
	OutcomeFailed                   // the last attempt failed
	OutcomeExpired                  // the last attempt expired
)

var outcomeNames = [...]string{"Pending", "Succeeded", "Failed", "Expired"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// MarshalText encodes the outcome as its name.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Final reports whether the outcome is settled (not pending).
func (o Outcome) Final() bool { return o != OutcomePending }

// next returns the outcome after a stage is applied to an entry with the
// outcome o.
func (o Outcome) next(s Stage) Outcome {
	switch s {
	case StageRequested:
		return OutcomePending // a new attempt
	case StageInstalled, StageEnabled:
		return OutcomeSucceeded
	case StageDisabled, StageDeleted:
		if o == OutcomePending {
			// Disabling or deleting implies an earlier installation.
			return OutcomeSucceeded
		}
		return o
	case StageFailed:
		return OutcomeFailed
	case StageExpired:
		return OutcomeExpired
	default:
		return o
	}
}

// Event is one report about a profile, from any interface.
type Event struct {
	Source    string    // reporting interface: "ES2+", "ES2", "ES4", ...
	ICCID     string    // required; normalised by the board
	EID       string    // optional
	Stage     Stage     // required
	Attempted Stage     // for StageFailed/StageExpired: the step that failed, when known; for StageRequested: the step asked for
	Time      time.Time // when it happened (the sender's timestamp); zero: the board's clock
	Status    string    // the sender's status text ("Executed-Success", "Failed", ...)
	Detail    string    // free text: notification point name, error reason, ...
	Ref       string    // correlation reference (functionCallIdentifier, TransactionId, ...)
}

// Entry is the board's view of one profile.
type Entry struct {
	ICCID     string    // normalised ICCID
	EID       string    // last non-empty EID reported
	Stage     Stage     // stage of the most recent event (by Time)
	Attempted Stage     // copy of the most recent event's Attempted
	Outcome   Outcome   // settled outcome of the download
	Source    string    // source of the most recent event
	Status    string    // status text of the most recent event
	Detail    string    // detail of the most recent event
	Ref       string    // reference of the most recent event
	Time      time.Time // time of the most recent event
	Updated   time.Time // when the board last applied an event to this entry (board clock)
	Events    int       // number of events applied
	History   []Event   // the last events, oldest first (bounded by WithHistory)
}

// NormalizeICCID returns the board key for an ICCID: surrounding blanks and
// trailing 'F'/'f' padding removed, letters upper-cased.
func NormalizeICCID(iccid string) string {
	s := strings.TrimSpace(iccid)
	s = strings.TrimRight(s, "fF")
	return strings.ToUpper(s)
}
