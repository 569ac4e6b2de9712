package gatewaytest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/esimgw/esimgw/es2plus"
)

// DownloadSequence describes the SGP.22 ES2+ HandleDownloadProgressInfo webhooks an SM-DP+ sends for one
// download (SM-DP+ mode).
type DownloadSequence struct {
	EID, ICCID, ProfileType string
	// FunctionRequesterIdentifier is the SM-DP+'s identifier (the SMDPID when empty).
	FunctionRequesterIdentifier string
	// FunctionCallIdentifier prefixes the per-message identifiers ("hdpi" when empty).
	FunctionCallIdentifier string
	// Fail, when non-zero, makes the download fail at that point: es2plus.PointEligibilityRetryLimit (1)
	// or es2plus.PointConfirmationRetryExceeded (2). A successful download sends points 3, 4 and 6.
	Fail es2plus.NotificationPoint
	// Duplicate, when non-zero, sends the message of that point twice (same functionCallIdentifier).
	Duplicate es2plus.NotificationPoint
	// Invalid sends one extra message without iccid first, which a receiver must refuse with 400.
	Invalid bool
}

// ProgressPost is one webhook SendDownloadProgress posted.
type ProgressPost struct {
	Point      es2plus.NotificationPoint // 0 for the invalid message
	Status     es2plus.Status
	Invalid    bool
	Duplicate  bool
	HTTPStatus int
}

// ProgressError is returned when a receiver did not answer a valid webhook with 2xx, or accepted the
// invalid one.
type ProgressError struct {
	Post ProgressPost
	Body string
}

func (e *ProgressError) Error() string {
	return fmt.Sprintf("gatewaytest: HandleDownloadProgressInfo point %d: receiver answered %d: %q", e.Post.Point, e.Post.HTTPStatus, e.Body)
}

// SendDownloadProgress posts the ES2+ webhooks of seq to baseURL + es2plus.Path over mTLS (the mock's
// client certificate, as for callbacks) and returns what was posted. It stops at the first post that was
// not answered as expected (*ProgressError) or could not be sent.
func (g *Gateway) SendDownloadProgress(ctx context.Context, baseURL string, seq DownloadSequence) ([]ProgressPost, error) {
	if seq.FunctionRequesterIdentifier == "" {
		seq.FunctionRequesterIdentifier = g.SMDPID
	}
	if seq.FunctionCallIdentifier == "" {
		seq.FunctionCallIdentifier = "hdpi"
	}
	type msg struct {
		info es2plus.DownloadProgressInfo
		post ProgressPost
	}
	mk := func(point es2plus.NotificationPoint, st es2plus.Status) msg {
		info := es2plus.DownloadProgressInfo{
			Header: es2plus.Header{FunctionRequesterIdentifier: seq.FunctionRequesterIdentifier,
				FunctionCallIdentifier: seq.FunctionCallIdentifier + "-" + strconv.Itoa(int(point))},
			EID: seq.EID, ICCID: seq.ICCID, ProfileType: seq.ProfileType, Timestamp: time.Now().UTC().Truncate(time.Second),
			NotificationPointID: point, NotificationPointStatus: es2plus.NotificationPointStatus{Status: st},
		}
		if st == es2plus.StatusFailed {
			info.NotificationPointStatus.StatusCodeData = &es2plus.StatusCodeData{SubjectCode: "8.1", ReasonCode: "3.8",
				SubjectIdentifier: seq.EID, Message: "download failed (simulated)"}
		}
		return msg{info: info, post: ProgressPost{Point: point, Status: st}}
	}
	var msgs []msg
	if seq.Invalid {
		m := mk(0, es2plus.StatusSuccess)
		m.info.ICCID = ""
		m.post.Invalid = true
		msgs = append(msgs, m)
	}
	if seq.Fail != 0 {
		msgs = append(msgs, mk(seq.Fail, es2plus.StatusFailed))
	} else {
		for _, p := range []es2plus.NotificationPoint{es2plus.PointBPPDownloaded, es2plus.PointBPPInstalled, es2plus.PointEnabled} {
			msgs = append(msgs, mk(p, es2plus.StatusSuccess))
		}
	}
	for i := 0; i < len(msgs); i++ {
		if seq.Duplicate != 0 && msgs[i].info.NotificationPointID == seq.Duplicate && !msgs[i].post.Invalid && !msgs[i].post.Duplicate {
			d := msgs[i]
			d.post.Duplicate = true
			msgs = append(msgs[:i+1], append([]msg{d}, msgs[i+1:]...)...)
		}
	}
	var out []ProgressPost
	for _, m := range msgs {
		req, err := es2plus.NewRequest(ctx, baseURL, &m.info)
		if err != nil {
			return out, err
		}
		res, err := g.cbHTTP.Do(req)
		if err != nil {
			return out, fmt.Errorf("gatewaytest: HandleDownloadProgressInfo: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		m.post.HTTPStatus = res.StatusCode
		out = append(out, m.post)
		ok := res.StatusCode >= 200 && res.StatusCode < 300
		if m.post.Invalid {
			ok = res.StatusCode >= 400 && res.StatusCode < 500
		}
		if !ok {
			return out, &ProgressError{Post: m.post, Body: string(body)}
		}
	}
	return out, nil
}
