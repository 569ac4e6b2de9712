package gatewaytest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

const (
	unknownEID   = "89049032000001000000000000000559" // valid check digits, not seeded
	unknownICCID = "89310410000000009994"
)

func TestStateRules(t *testing.T) {
	eid := func(t *testing.T) rps.HexBinary { return hexEID(t, gatewaytest.DefaultEID) }
	type row struct {
		name    string
		setup   func(t *testing.T, o *op)
		body    func(t *testing.T, o *op) rps.Element
		status  rps.StatusType
		subject string
		reason  string
		check   func(t *testing.T, o *op, r rps.Response)
	}
	enabledIs := func(want string) func(t *testing.T, o *op, r rps.Response) {
		return func(t *testing.T, o *op, r rps.Response) {
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			p, ok := e.Enabled()
			require.True(t, ok)
			assert.Equal(t, want, p.ICCID)
		}
	}
	pol2 := func(action rps.POL2ActionType, iccid string) func(t *testing.T, o *op) {
		return func(t *testing.T, o *op) {
			r, _ := o.sync(t, &rps.ES4UpdatePolicyRulesRequest{BaseRequestType: base(), Eid: eid(t), Iccid: iccid,
				Pol2: rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: rps.POL2SubjectTypePROFILE, Action: action, Qualification: rps.POL2QualificationTypeNotAllowed}}}})
			st, _, _ := status(r)
			require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
		}
	}
	rows := []row{
		{name: "enable: bad EID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, "89049032000001000000000000000172"), Iccid: gatewaytest.DefaultDisabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.1.1", reason: "2.1"},
		{name: "enable: bad ICCID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: "89310410000000000028"}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "2.1"},
		{name: "enable: unknown EID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, unknownEID), Iccid: gatewaytest.DefaultDisabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.1.1", reason: "3.9"},
		{name: "enable: unknown ICCID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: unknownICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.9"},
		{name: "enable: ICCID on another eUICC", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.SecondEnabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.9", check: func(t *testing.T, o *op, r rps.Response) {
			assert.Contains(t, r.ResponseBase().FunctionExecutionStatus.StatusCodeData.Message, "invalid destination")
		}},
		{name: "enable: another MNO's profile", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.OtherMNOICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "1.2"},
		{name: "ES2 enable: wrong SM-SR", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: "1.2.3.4", Iccid: gatewaytest.DefaultDisabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.7", reason: "3.9"},
		{name: "enable: already enabled", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultEnabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.8"},
		{name: "enable: disables the enabled one", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.FallbackICCID}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: enabledIs(gatewaytest.FallbackICCID)},
		{name: "enable: POL2 of the enabled profile forbids disabling", setup: pol2(rps.POL2ActionTypeDISABLE, gatewaytest.DefaultEnabledICCID),
			body: func(t *testing.T, o *op) rps.Element {
				return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultDisabledICCID}
			}, status: rps.StatusTypeFAILED, subject: "8.2.3", reason: "3.8", check: enabledIs(gatewaytest.DefaultEnabledICCID)},
		{name: "disable: not enabled", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4DisableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultDisabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.8"},
		{name: "disable: fall-back profile", setup: func(t *testing.T, o *op) {
			require.NoError(t, o.g.SimulateFallback(gatewaytest.DefaultEID))
		}, body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4DisableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.FallbackICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.8"},
		{name: "disable: POL2 Not-Allowed", setup: pol2(rps.POL2ActionTypeDISABLE, gatewaytest.DefaultEnabledICCID),
			body: func(t *testing.T, o *op) rps.Element {
				return &rps.ES4DisableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultEnabledICCID}
			}, status: rps.StatusTypeFAILED, subject: "8.2.3", reason: "3.8"},
		{name: "disable: enables the fall-back", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4DisableProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultEnabledICCID}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: enabledIs(gatewaytest.FallbackICCID)},
		{name: "delete: enabled profile", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4DeleteProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultEnabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.8"},
		{name: "delete: fall-back profile", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DeleteProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.FallbackICCID, SmsrID: o.g.SMSRID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.8"},
		{name: "delete: POL2 Not-Allowed", setup: pol2(rps.POL2ActionTypeDELETE, gatewaytest.DefaultDisabledICCID),
			body: func(t *testing.T, o *op) rps.Element {
				return &rps.ES4DeleteProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultDisabledICCID}
			}, status: rps.StatusTypeFAILED, subject: "8.2.3", reason: "3.8"},
		{name: "delete: frees memory", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4DeleteProfileRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultDisabledICCID}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: func(t *testing.T, o *op, r rps.Response) {
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			_, ok := e.Profile(gatewaytest.DefaultDisabledICCID)
			assert.False(t, ok)
			assert.Equal(t, uint64(1<<20+gatewaytest.DefaultProfileSize), e.AvailableMemoryForProfiles)
		}},
		{name: "set fall-back moves the attribute", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4SetFallBackAttributeRequest{BaseRequestType: base(), Eid: eid(t), Iccid: gatewaytest.DefaultDisabledICCID}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: func(t *testing.T, o *op, r rps.Response) {
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			p, _ := e.Profile(gatewaytest.DefaultDisabledICCID)
			assert.True(t, p.Fallback)
			p, _ = e.Profile(gatewaytest.FallbackICCID)
			assert.False(t, p.Fallback)
		}},
		{name: "ES2 set fall-back: another MNO's profile", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2SetFallBackAttributeRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.OtherMNOICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "1.2"},
		{name: "download by ICCID, enabled", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.CatalogICCID, EnableProfile: true}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: func(t *testing.T, o *op, r rps.Response) {
			assert.Equal(t, gatewaytest.CatalogICCID, r.(*rps.ES2DownloadProfileResponse).Iccid)
			enabledIs(gatewaytest.CatalogICCID)(t, o, r)
			assert.Len(t, o.g.Catalog(), 2)
		}},
		{name: "download by type", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, ProfileType: gatewaytest.CatalogProfileType}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: func(t *testing.T, o *op, r rps.Response) {
			iccid := r.(*rps.ES2DownloadProfileResponse).Iccid
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			p, ok := e.Profile(iccid)
			require.True(t, ok)
			assert.Equal(t, gatewaytest.StateDisabled, p.State)
			assert.Equal(t, gatewaytest.CatalogProfileType, p.ProfileType)
		}},
		{name: "download: both ICCID and type", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.CatalogICCID, ProfileType: gatewaytest.CatalogProfileType}
		}, status: rps.StatusTypeFAILED, subject: "1.6", reason: "2.1"},
		{name: "download: neither", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID}
		}, status: rps.StatusTypeFAILED, subject: "1.6", reason: "2.3"},
		{name: "download: unknown ICCID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: unknownICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.9"},
		{name: "download: already installed", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.SecondEnabledICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "3.8"},
		{name: "download: another MNO's ICCID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.OtherMNOCatalogICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.2.1", reason: "1.2"},
		{name: "download: another MNO's type", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, ProfileType: gatewaytest.OtherProfileType}
		}, status: rps.StatusTypeFAILED, subject: "8.2.5", reason: "1.2"},
		{name: "download: unknown type", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, ProfileType: "nope"}
		}, status: rps.StatusTypeFAILED, subject: "8.2.5", reason: "3.9"},
		{name: "download: no memory", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.FullEID), SmsrID: o.g.SMSRID, Iccid: gatewaytest.CatalogICCID}
		}, status: rps.StatusTypeFAILED, subject: "8.1", reason: "3.8", check: func(t *testing.T, o *op, r rps.Response) {
			assert.Contains(t, r.ResponseBase().FunctionExecutionStatus.StatusCodeData.Message, "insufficient memory")
		}},
		{name: "download+enable refused by POL2: warning", setup: pol2(rps.POL2ActionTypeDISABLE, gatewaytest.DefaultEnabledICCID),
			body: func(t *testing.T, o *op) rps.Element {
				return &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.CatalogICCID, EnableProfile: true}
			}, status: rps.StatusTypeEXECUTED_WITHWARNING, subject: "8.2.3", reason: "3.8", check: enabledIs(gatewaytest.DefaultEnabledICCID)},
		{name: "audit EIS filtered by ICCID, LastAuditDate set", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4AuditEISRequest{BaseRequestType: base(), Eid: eid(t), Iccid: []string{gatewaytest.FallbackICCID}}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: func(t *testing.T, o *op, r rps.Response) {
			eis := r.(*rps.ES4AuditEISResponse).Eis
			require.NotNil(t, eis)
			require.Len(t, eis.ProfileInfo, 1)
			assert.Equal(t, gatewaytest.FallbackICCID, eis.ProfileInfo[0].Iccid)
			require.NotNil(t, eis.LastAuditDate)
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			assert.False(t, e.LastAuditDate.IsZero())
		}},
		{name: "audit EIS: unknown EID", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4AuditEISRequest{BaseRequestType: base(), Eid: hexEID(t, unknownEID)}
		}, status: rps.StatusTypeFAILED, subject: "8.1.1", reason: "3.9"},
		{name: "SMSR change without prepare", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4SMSRChangeRequest{BaseRequestType: base(), Eid: eid(t), TargetSmsrID: "1.3.6.1.4.1.99999.21"}
		}, status: rps.StatusTypeFAILED, subject: "8.1", reason: "3.8"},
		{name: "prepare SMSR change: wrong current SM-SR", body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4PrepareSMSRChangeRequest{BaseRequestType: base(), Eid: eid(t), CurrentSmsrID: "1.2.3"}
		}, status: rps.StatusTypeFAILED, subject: "8.7", reason: "3.9"},
		{name: "SMSR change", setup: func(t *testing.T, o *op) {
			r, _ := o.async(t, &rps.ES4PrepareSMSRChangeRequest{BaseRequestType: base(), Eid: eid(t), CurrentSmsrID: o.g.SMSRID})
			st, _, _ := status(r)
			require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
		}, body: func(t *testing.T, o *op) rps.Element {
			return &rps.ES4SMSRChangeRequest{BaseRequestType: base(), Eid: eid(t), TargetSmsrID: "1.3.6.1.4.1.99999.21"}
		}, status: rps.StatusTypeEXECUTED_SUCCESS, check: func(t *testing.T, o *op, r rps.Response) {
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			assert.Equal(t, "1.3.6.1.4.1.99999.21", e.SMSRID)
			n := o.cb.next(t, "ES4-HandleSMSRChangeNotification")
			var body rps.ES4HandleSMSRChangeNotification
			require.NoError(t, n.DecodeBody(&body))
			assert.Equal(t, "1.3.6.1.4.1.99999.21", body.Eis.SmsrID)
			// ES2 must now name the new SM-SR.
			r2, _ := o.async(t, &rps.ES2EnableProfileRequest{BaseRequestType: base(), Eid: eid(t), SmsrID: o.g.SMSRID, Iccid: gatewaytest.DefaultDisabledICCID})
			_, s, rs := status(r2)
			assert.Equal(t, []string{"8.7", "3.9"}, []string{s, rs})
		}},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			o := newOp(t)
			o.g.SetNotificationURL(gatewaytest.ES4, o.cb.url("/notifications"))
			if tc.setup != nil {
				tc.setup(t, o)
			}
			r, _ := o.async(t, tc.body(t, o))
			st, subj, reason := status(r)
			assert.Equal(t, tc.status, st)
			assert.Equal(t, tc.subject, subj)
			assert.Equal(t, tc.reason, reason)
			if tc.check != nil {
				tc.check(t, o, r)
			}
		})
	}
}

func TestSyncRules(t *testing.T) {
	for _, tc := range []struct {
		name            string
		body            func(t *testing.T, o *op) rps.Element
		status          rps.StatusType
		subject, reason string
		check           func(t *testing.T, o *op)
	}{
		{"ES2 POL2 update", func(t *testing.T, o *op) rps.Element {
			return &rps.ES2UpdatePolicyRulesRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID, SmsrID: o.g.SMSRID,
				Pol2: &rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDELETE, Qualification: rps.POL2QualificationTypeNotAllowed}}}}
		}, rps.StatusTypeEXECUTED_SUCCESS, "", "", func(t *testing.T, o *op) {
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			p, _ := e.Profile(gatewaytest.DefaultDisabledICCID)
			assert.Equal(t, []gatewaytest.POL2Rule{{Action: "DELETE", Qualification: "Not-Allowed"}}, p.POL2)
		}},
		{"ES4 POL2: bad value", func(t *testing.T, o *op) rps.Element {
			return &rps.ES4UpdatePolicyRulesRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID,
				Pol2: rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: rps.POL2SubjectTypePROFILE, Action: "REBOOT", Qualification: rps.POL2QualificationTypeNotAllowed}}}}
		}, rps.StatusTypeFAILED, "8.2.3", "2.1", nil},
		{"ES4 subscription address", func(t *testing.T, o *op) rps.Element {
			return &rps.ES4UpdateSubscriptionAddressRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultEnabledICCID,
				NewSubscriptionAddress: rps.SubscriptionAddressType{Imsi: "204049999999999", Msisdn: "31699999999"}}
		}, rps.StatusTypeEXECUTED_SUCCESS, "", "", func(t *testing.T, o *op) {
			e, _ := o.g.EUICC(gatewaytest.DefaultEID)
			p, _ := e.Profile(gatewaytest.DefaultEnabledICCID)
			assert.Equal(t, gatewaytest.SubscriptionAddress{IMSI: "204049999999999", MSISDN: "31699999999"}, p.SubscriptionAddress)
		}},
		{"ES2 subscription address: bad MSISDN", func(t *testing.T, o *op) rps.Element {
			return &rps.ES2UpdateSubscriptionAddressRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), SmsrID: o.g.SMSRID, Iccid: gatewaytest.DefaultEnabledICCID,
				NewSubscriptionAddress: rps.SubscriptionAddressType{Msisdn: "31x"}}
		}, rps.StatusTypeFAILED, "8.2.6", "2.1", nil},
		{"ES2 GetEIS: wrong SM-SR", func(t *testing.T, o *op) rps.Element {
			return &rps.ES2GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), SmsrID: "1.2.3"}
		}, rps.StatusTypeFAILED, "8.7", "3.9", nil},
		{"ES4 GetEIS: unknown EID", func(t *testing.T, o *op) rps.Element {
			return &rps.ES4GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, unknownEID)}
		}, rps.StatusTypeFAILED, "8.1.1", "3.9", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOp(t)
			r, _ := o.sync(t, tc.body(t, o))
			st, s, rs := status(r)
			assert.Equal(t, tc.status, st)
			assert.Equal(t, tc.subject, s)
			assert.Equal(t, tc.reason, rs)
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}
