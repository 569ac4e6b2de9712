// Package faultqueue is the queue of injected faults the carrier mocks (thingspacetest, digirmtest) share:
// faults wait in the order they were injected, a fault with an int field Times is queued that many times
// (0 or less: once), the request or callback a fault concerns takes the first one it matches, and the
// faults that fired are counted by type.
//
//	type Server struct {
//		mu     sync.Mutex
//		faults faultqueue.Queue[Fault] // its own lock: taken with or without mu
//	}
//
//	func (s *Server) Inject(faults ...Fault) { s.faults.Add(faults...) }
//
//	// in a handler: the next ErrorAnswer, typed
//	if f, ok := faultqueue.Take[ErrorAnswer](&s.faults, nil); ok {
//		writeError(w, f.Status)
//	}
package faultqueue
