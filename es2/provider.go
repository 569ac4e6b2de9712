package es2

import (
	"context"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
)

// Manager is the client seen through esimgw.ProfileDownloader and esimgw.ProfileAuditor, the interfaces
// the SGP.02 clients share with thingspace and digirm.
type Manager struct {
	c    *Client
	opts []esimgw.CallOption
}

var (
	_ esimgw.ProfileDownloader = (*Manager)(nil)
	_ esimgw.ProfileAuditor    = (*Manager)(nil)
)

// Manager returns the client as an esimgw.ProfileManager; opts apply to every call it makes.
func (c *Client) Manager(opts ...esimgw.CallOption) *Manager { return &Manager{c: c, opts: opts} }

// Platform returns esimgw.PlatformES2.
func (m *Manager) Platform() esimgw.Platform { return esimgw.PlatformES2 }

// Enable is EnableProfile. ES2 has no accounts (the SM-SR is the client's): a ref naming one is refused.
func (m *Manager) Enable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES2, ref.Account); err != nil {
		return nil, err
	}
	return m.c.EnableProfile(ctx, ref.EID, ref.ICCID, m.opts...)
}

// Disable is DisableProfile.
func (m *Manager) Disable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES2, ref.Account); err != nil {
		return nil, err
	}
	return m.c.DisableProfile(ctx, ref.EID, ref.ICCID, m.opts...)
}

// Delete is DeleteProfile.
func (m *Manager) Delete(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES2, ref.Account); err != nil {
		return nil, err
	}
	return m.c.DeleteProfile(ctx, ref.EID, ref.ICCID, m.opts...)
}

// Download is DownloadProfile by ICCID or ProfileType. ES2 takes no activation code: a spec with one is
// refused.
func (m *Manager) Download(ctx context.Context, spec esimgw.DownloadSpec) (*esimgw.Operation[*esimgw.DownloadResult], error) {
	if err := esimgw.ValidateNoAccount(esimgw.PlatformES2, spec.Account); err != nil {
		return nil, err
	}
	if spec.ActivationCode != "" {
		return nil, &esimgw.ValidationError{Field: esimgw.FieldActivationCode, Value: spec.ActivationCode,
			Rule: "ES2 downloads by Iccid or ProfileType, not by activation code"}
	}
	return m.c.DownloadProfile(ctx, DownloadRequest{Eid: spec.EID, Iccid: spec.ICCID, ProfileType: spec.ProfileType, Enable: spec.Enable}, m.opts...)
}

// Audit is GetEIS (synchronous: the returned operation is already resolved). It reports what the SM-SR
// holds, which is as fresh as its last audit.
func (m *Manager) Audit(ctx context.Context, eid string) (*esimgw.Operation[*esimgw.AuditResult], error) {
	r, err := m.c.GetEIS(ctx, eid, m.opts...)
	if r == nil && err != nil {
		return nil, err
	}
	return esimgw.CompletedOperation(correlate.OperationKey{Interface: "ES2", Function: "GetEIS"}, esimgw.AuditResultOfEIS(eid, r), err), nil
}
