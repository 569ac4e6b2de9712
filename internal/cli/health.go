package cli

import "github.com/esimgw/esimgw/callback"

// ReadinessChecks are what /readyz requires of this session: the callback server listening with a valid
// certificate and, with -store, the database answering.
func (s *Session) ReadinessChecks() []callback.ReadinessCheck {
	checks := []callback.ReadinessCheck{s.Server.ReadinessCheck()}
	if s.store != nil {
		checks = append(checks, callback.PingCheck("store", s.store))
	}
	return checks
}
