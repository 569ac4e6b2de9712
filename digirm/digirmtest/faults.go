package digirmtest

import (
	"reflect"
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

func (ThrottleFault) fault()    {}
func (ErrorAnswer) fault()      {}
func (FailTransactions) fault() {}

func times(f Fault) int {
	n := 0
	switch f := f.(type) {
	case ThrottleFault:
		n = f.Times
	case ErrorAnswer:
		n = f.Times
	case FailTransactions:
		n = f.Times
	}
	return max(n, 1)
}

// Inject switches faults on.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		for range times(f) {
			s.faults = append(s.faults, f)
		}
	}
}

// FaultsFired returns how often faults of f's type have fired.
func (s *Server) FaultsFired(f Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired[reflect.TypeOf(f)]
}

func (s *Server) take(match func(Fault) bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeLocked(match)
}

func (s *Server) takeLocked(match func(Fault) bool) (Fault, bool) {
	for i, f := range s.faults {
		if match(f) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			s.fired[reflect.TypeOf(f)]++
			return f, true
		}
	}
	return nil, false
}
