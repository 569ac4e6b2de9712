package thingspacetest

import (
	"time"
)

// Fault is a misbehaviour to inject (Inject). Faults with Times fire that many times (0 means once).
type Fault interface{ fault() }

// ExpireToken ends the lifetime of every OAuth2 token handed out so far, at once: the next call with one
// is answered 401, as when a token's hour ends mid-run.
type ExpireToken struct{}

// ExpireSession ends every M2M session at once: the next call is answered 401.
type ExpireSession struct{}

// DeviceTimeout makes the next action on EID ("" any) time out at the device: a first callback with
// EXECUTED_WITHWARNING (8.2.1,3.9) and, FinalAfter later, the callback with the final result.
type DeviceTimeout struct {
	EID        string
	FinalAfter time.Duration
	Times      int
}

// DuplicateCallbacks posts the next callbacks a second time after they were acknowledged (callbackCount
// one higher), as ThingSpace does when it missed the acknowledgement.
type DuplicateCallbacks struct{ Times int }

// WrongCredentials posts the first attempt of the next callbacks with a wrong password; the retry that
// follows a refusal carries the right one.
type WrongCredentials struct{ Times int }

// ErrorAnswer answers the next profile actions with Status and errorCode Code.
type ErrorAnswer struct {
	Status int
	Code   string
	Times  int
}

// LoseAnswer accepts and executes the next profile actions on EID ("" any) but closes the connection
// instead of answering: the client cannot tell whether they ran (the thingspace client reports an
// UncertainError).
type LoseAnswer struct {
	EID   string
	Times int
}

func (LoseAnswer) fault()         {}
func (ExpireToken) fault()        {}
func (ExpireSession) fault()      {}
func (DeviceTimeout) fault()      {}
func (DuplicateCallbacks) fault() {}
func (WrongCredentials) fault()   {}
func (ErrorAnswer) fault()        {}

// Inject switches faults on. ExpireToken and ExpireSession act at once; the others wait for the request
// or callback they concern.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		switch f.(type) {
		case ExpireToken:
			for tok := range s.tokens {
				s.tokens[tok] = time.Now()
			}
			s.faults.Fire(f)
		case ExpireSession:
			clear(s.sessions)
			s.faults.Fire(f)
		default:
			s.faults.Add(f)
		}
	}
}

// Reset switches every pending fault off.
func (s *Server) Reset() { s.faults.Reset() }

// FaultsFired returns how often faults of f's type have fired.
func (s *Server) FaultsFired(f Fault) int { return s.faults.Fired(f) }
