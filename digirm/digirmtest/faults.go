package digirmtest

import (
	"time"
)

// Fault is a misbehaviour to inject (Inject). Faults with Times fire that many times (0 means once).
type Fault interface{ fault() }

// ThrottleFault answers the next requests 429 with Retry-After (rounded up to whole seconds; 0 sends no
// header), whatever the rate: the throttling a client must wait out.
type ThrottleFault struct {
	RetryAfter time.Duration
	Times      int
}

// ErrorAnswer answers the next action requests with Status.
type ErrorAnswer struct {
	Status int
	Times  int
}

// FailTransactions makes the next accepted transactions end failed with MessageCode and Message, or, with
// Unknown, end with status unknown.
type FailTransactions struct {
	MessageCode, Message string
	Unknown              bool
	Times                int
}

// LoseAnswer accepts the next action requests for EID ("" any; their transactions run) but closes the
// connection instead of answering: the client cannot tell whether they were accepted (an
// UncertainError).
type LoseAnswer struct {
	EID   string
	Times int
}

func (LoseAnswer) fault()       {}
func (ThrottleFault) fault()    {}
func (ErrorAnswer) fault()      {}
func (FailTransactions) fault() {}

// Inject switches faults on.
func (s *Server) Inject(faults ...Fault) { s.faults.Add(faults...) }

// FaultsFired returns how often faults of f's type have fired.
func (s *Server) FaultsFired(f Fault) int { return s.faults.Fired(f) }
