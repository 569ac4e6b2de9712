package cli

import "github.com/esimgw/esimgw"

// ReadinessChecks are what /readyz requires of this session: the callback server listening with a valid
// certificate and, with -store, the database answering.
func (s *Session) ReadinessChecks() []esimgw.ReadinessCheck {
	checks := []esimgw.ReadinessCheck{s.Server.ReadinessCheck()}
	if s.store != nil {
		checks = append(checks, esimgw.PingCheck("store", s.store))
	}
	return checks
}
