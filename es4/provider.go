package es4

import (
	"context"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Manager is the client seen through esimgw.ProfileManager and esimgw.ProfileAuditor, the interface the
// SGP.02 clients share with thingspace and digirm. An SM-SR downloads nothing, so it is no
// esimgw.ProfileDownloader.
type Manager struct {
	c    *Client
	opts []esimgw.CallOption
}

var _ esimgw.ProfileAuditor = (*Manager)(nil)

// Manager returns the client as an esimgw.ProfileManager; opts apply to every call it makes (a
// ValidityPeriod, say).
func (c *Client) Manager(opts ...esimgw.CallOption) *Manager { return &Manager{c: c, opts: opts} }

// Platform returns esimgw.PlatformES4.
func (m *Manager) Platform() esimgw.Platform { return esimgw.PlatformES4 }

// Enable is EnableProfile. ES4 has no accounts: a ref naming one is refused.
func (m *Manager) Enable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES4, ref.Account); err != nil {
		return nil, err
	}
	return m.c.EnableProfile(ctx, ref.EID, ref.ICCID, m.opts...)
}

// Disable is DisableProfile.
func (m *Manager) Disable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES4, ref.Account); err != nil {
		return nil, err
	}
	return m.c.DisableProfile(ctx, ref.EID, ref.ICCID, m.opts...)
}

// Delete is DeleteProfile.
func (m *Manager) Delete(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES4, ref.Account); err != nil {
		return nil, err
	}
	return m.c.DeleteProfile(ctx, ref.EID, ref.ICCID, m.opts...)
}

// Audit is AuditEIS of every profile: the SM-SR reads the eUICC again.
func (m *Manager) Audit(ctx context.Context, eid string) (*esimgw.Operation[*esimgw.AuditResult], error) {
	e, err := esimgw.ParseEID(eid)
	if err != nil {
		return nil, err
	}
	return esimgw.StartOperation(ctx, m.c.engine, m.c.fn.auditEIS, &rps.ES4AuditEISRequest{Eid: e}, &rps.ES4AuditEISResponse{},
		func(resp rps.Response, warn *esimgw.Warning, err error) (*esimgw.AuditResult, error) {
			r, err := esimgw.EISResultOf(resp, warn, err)
			return esimgw.AuditResultOfEIS(eid, r), err
		}, m.opts...)
}
