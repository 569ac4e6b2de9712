package es2plus

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// wire is the canonical JSON form.
type wire struct {
	Header                  Header                  `json:"header"`
	EID                     string                  `json:"eid,omitempty"`
	ICCID                   string                  `json:"iccid"`
	ProfileType             string                  `json:"profileType"`
	Timestamp               string                  `json:"timestamp"`
	NotificationPointID     int                     `json:"notificationPointId"`
	NotificationPointStatus NotificationPointStatus `json:"notificationPointStatus"`
	ResultData              string                  `json:"resultData,omitempty"`
}

// MarshalJSON writes the canonical SGP.22 form (never the variants Decode
// accepts): timestamp as UTC "2006-01-02T15:04:05Z", notificationPointId as
// a number, resultData as standard base64. Extra fields are written too.
func (n *DownloadProgressInfo) MarshalJSON() ([]byte, error) {
	w := wire{
		Header: n.Header, EID: n.EID, ICCID: n.ICCID, ProfileType: n.ProfileType,
		Timestamp:               n.Timestamp.UTC().Format(time.RFC3339),
		NotificationPointID:     int(n.NotificationPointID),
		NotificationPointStatus: n.NotificationPointStatus,
	}
	if len(n.ResultData) > 0 {
		w.ResultData = base64.StdEncoding.EncodeToString(n.ResultData)
	}
	out, err := json.Marshal(&w)
	if err != nil || len(n.Extra) == 0 {
		return out, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, err
	}
	for k, v := range n.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// NewRequest builds the POST an SM-DP+ sends to baseURL+Path (for mocks and
// tests): canonical JSON, Content-Type application/json, X-Admin-Protocol
// AdminProtocol.
func NewRequest(ctx context.Context, baseURL string, n *DownloadProgressInfo) (*http.Request, error) {
	body, err := n.MarshalJSON()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+Path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Admin-Protocol", AdminProtocol)
	return req, nil
}
