package main

import (
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// The JSON documents of --output json and jsonl. Field names are part of the CLI's interface: docs/cli.md
// documents each one and a test checks the output against that page. Add fields; never rename or remove.

// callResult is the outcome of one function call on one eUICC.
type callResult struct {
	Command                string        `json:"command"`
	Platform               string        `json:"platform"` // --platform: es4, es2, thingspace, digirm
	Interface              string        `json:"interface"`
	Function               string        `json:"function"`
	EID                    string        `json:"eid"`
	ICCID                  string        `json:"iccid,omitempty"`
	ProfileType            string        `json:"profileType,omitempty"`
	FunctionCallIdentifier string        `json:"functionCallIdentifier,omitempty"`
	MessageID              string        `json:"messageId,omitempty"`
	Status                 esimgw.Status `json:"status"`
	StatusCode             string        `json:"statusCode,omitempty"`
	Description            string        `json:"description,omitempty"`
	Message                string        `json:"message,omitempty"`
	ElapsedMs              int64         `json:"elapsedMs"`
	Enabled                *bool         `json:"enabled,omitempty"`
	VerifiedBy             string        `json:"verifiedBy,omitempty"`
	Steps                  []stepJSON    `json:"steps,omitempty"`
	EIS                    *eisJSON      `json:"eis,omitempty"`
}

func (r *callResult) setOutcome(o esimgw.Outcome, began time.Time) {
	r.Status, r.StatusCode, r.Description, r.Message = o.Status, o.StatusCode, o.Description, o.Message
	r.ElapsedMs = time.Since(began).Milliseconds()
}

func (r *callResult) setOperation(k correlate.OperationKey) {
	r.Interface, r.Function, r.FunctionCallIdentifier, r.MessageID = k.Interface, k.Function, k.FunctionCallIdentifier, k.MessageID
}

// stepJSON is one step of an activation.
type stepJSON struct {
	Name   string `json:"name"`
	Time   string `json:"time"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

// eisJSON is an eUICC Information Set, the part an operator sees.
type eisJSON struct {
	EID                        string        `json:"eid"`
	SMSRID                     string        `json:"smsrId"`
	AvailableMemoryForProfiles uint64        `json:"availableMemoryForProfiles"`
	LastAuditDate              string        `json:"lastAuditDate,omitempty"`
	Profiles                   []profileJSON `json:"profiles"`
}

// profileJSON is one profile of an EIS.
type profileJSON struct {
	ICCID             string `json:"iccid"`
	State             string `json:"state"`
	FallbackAttribute bool   `json:"fallbackAttribute"`
	ProfileType       string `json:"profileType,omitempty"`
	Carrier           string `json:"carrier,omitempty"` // Digi Remote Manager's SPN
	MNOID             string `json:"mnoId,omitempty"`
	AllocatedMemory   uint64 `json:"allocatedMemory"`
}

func eisOf(eid string, eis *rps.EISType) *eisJSON {
	if eis == nil {
		return nil
	}
	e := &eisJSON{EID: eid, SMSRID: eis.SmsrID, AvailableMemoryForProfiles: uint64(eis.AvailableMemoryForProfiles), Profiles: []profileJSON{}}
	if len(eis.EumSignedInfo.Eid) > 0 {
		e.EID = eis.EumSignedInfo.Eid.String()
	}
	if eis.LastAuditDate != nil {
		e.LastAuditDate = eis.LastAuditDate.UTC().Format(time.RFC3339)
	}
	for _, p := range eis.ProfileInfo {
		e.Profiles = append(e.Profiles, profileJSON{ICCID: p.Iccid, State: string(p.State), FallbackAttribute: p.FallbackAttribute,
			ProfileType: p.ProfileType, MNOID: p.MnoID, AllocatedMemory: uint64(p.AllocatedMemory)})
	}
	return e
}

// messageJSON is one message the callback server received (esimgw listen).
type messageJSON struct {
	Kind                   string        `json:"kind"`
	Interface              string        `json:"interface"`
	Function               string        `json:"function"`
	MessageID              string        `json:"messageId"`
	ReceivedAt             string        `json:"receivedAt"`
	NotificationKind       string        `json:"notificationKind,omitempty"`
	EID                    string        `json:"eid,omitempty"`
	ICCID                  string        `json:"iccid,omitempty"`
	CompletionTimestamp    string        `json:"completionTimestamp,omitempty"`
	FunctionCallIdentifier string        `json:"functionCallIdentifier,omitempty"`
	RelatesTo              string        `json:"relatesTo,omitempty"`
	Status                 esimgw.Status `json:"status,omitempty"`
	StatusCode             string        `json:"statusCode,omitempty"`
	Description            string        `json:"description,omitempty"`
}

func notificationJSON(n *esimgw.Notification) messageJSON {
	m := messageJSON{Kind: "notification", Interface: n.Interface, Function: "Handle" + string(n.Kind) + "Notification",
		MessageID: n.Header.MessageID, ReceivedAt: time.Now().UTC().Format(time.RFC3339Nano),
		NotificationKind: string(n.Kind), EID: n.Eid, ICCID: n.Iccid}
	if !n.CompletionTimestamp.IsZero() {
		m.CompletionTimestamp = n.CompletionTimestamp.UTC().Format(time.RFC3339)
	}
	return m
}

func inboundJSON(in *esimgw.Inbound) messageJSON {
	if in.Kind == esimgw.InboundNotification && in.Notification != nil {
		return notificationJSON(in.Notification)
	}
	m := messageJSON{Kind: in.Kind.String(), Interface: in.Interface, Function: in.Function,
		ReceivedAt: time.Now().UTC().Format(time.RFC3339Nano)}
	if in.Message != nil {
		m.MessageID = in.Message.Header.MessageID
	}
	if in.Kind == esimgw.InboundCallback {
		o := esimgw.OutcomeOf(in.Warning, in.Err)
		m.FunctionCallIdentifier, m.RelatesTo = in.FunctionCallIdentifier(), in.RelatesTo
		m.Status, m.StatusCode, m.Description = o.Status, o.StatusCode, o.Description
	}
	return m
}

// mockJSON is what esimgw mock prints at start.
type mockJSON struct {
	Profile    string      `json:"profile"`
	ES2URL     string      `json:"es2Url"`
	ES4URL     string      `json:"es4Url"`
	SMSRID     string      `json:"smsrId"`
	SMDPID     string      `json:"smdpId"`
	OperatorID string      `json:"operatorId"`
	Control    string      `json:"control"`
	Files      mockFiles   `json:"files"`
	EUICCs     []mockEUICC `json:"euiccs"`
	// ClientArgs are the esimgw flags of a client of this mock; CallbackArgs those of its callback server.
	ClientArgs   []string `json:"clientArgs"`
	CallbackArgs []string `json:"callbackArgs"`
}

type mockFiles struct {
	CA                 string `json:"ca"`
	ClientCert         string `json:"clientCert"`
	ClientKey          string `json:"clientKey"`
	CallbackServerCert string `json:"callbackServerCert"`
	CallbackServerKey  string `json:"callbackServerKey"`
}

type mockEUICC struct {
	EID      string        `json:"eid"`
	Profiles []mockProfile `json:"profiles"`
}

type mockProfile struct {
	ICCID string `json:"iccid"`
	State string `json:"state"`
}
