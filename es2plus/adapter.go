package es2plus

import (
	"context"
	"strings"

	"github.com/esimgw/esimgw/progress"
)

// Source is the progress.Event source this package reports.
const Source = "ES2+"

// ProgressEvent maps a notification onto the shared progress model:
// point 3 → Downloaded, 4 → Installed, 6 → Enabled, 7 → Disabled,
// 8 → Deleted, 1 and 2 → Failed; a Failed or Expired status turns any
// point into Failed or Expired (Attempted = the point's stage). ok is false
// for points with no stage (5, vendor points) that did not fail.
func ProgressEvent(n *DownloadProgressInfo) (ev progress.Event, ok bool) {
	stage := progress.StageUnknown
	switch n.NotificationPointID {
	case PointEligibilityRetryLimit, PointConfirmationRetryExceeded:
		stage = progress.StageFailed
	case PointBPPDownloaded:
		stage = progress.StageDownloaded
	case PointBPPInstalled:
		stage = progress.StageInstalled
	case PointEnabled:
		stage = progress.StageEnabled
	case PointDisabled:
		stage = progress.StageDisabled
	case PointDeleted:
		stage = progress.StageDeleted
	}
	ev = progress.Event{
		Source: Source,
		ICCID:  n.NormalizedICCID(),
		EID:    n.EID,
		Stage:  stage,
		Time:   n.Timestamp,
		Status: string(n.NotificationPointStatus.Status),
		Ref:    n.Header.FunctionCallIdentifier,
	}
	switch n.NotificationPointStatus.Status {
	case StatusFailed:
		ev.Attempted, ev.Stage = stage, progress.StageFailed
	case StatusExpired:
		ev.Attempted, ev.Stage = stage, progress.StageExpired
	}
	if ev.Stage == progress.StageFailed && ev.Attempted == progress.StageFailed {
		ev.Attempted = progress.StageDownloaded // points 1 and 2: the download never completed
	}
	ev.Detail = detail(n)
	return ev, ev.Stage != progress.StageUnknown
}

func detail(n *DownloadProgressInfo) string {
	parts := []string{"point " + n.NotificationPointID.String()}
	if d := n.NotificationPointStatus.StatusCodeData; d != nil {
		s := d.SubjectCode + "/" + d.ReasonCode
		if d.Message != "" {
			s += " " + d.Message
		}
		parts = append(parts, s)
	}
	if n.Result != nil && !n.Result.Success {
		parts = append(parts, n.Result.Summary())
	}
	return strings.Join(parts, "; ")
}

// FeedBoard returns a Handler that calls next (nil: none) and, once next
// accepted the notification, records it on the board. Board errors are not
// the sender's concern and are ignored (events without a stage are skipped).
func FeedBoard(board *progress.Board, next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, n *DownloadProgressInfo) error {
		if next != nil {
			if err := next.HandleDownloadProgressInfo(ctx, n); err != nil {
				return err
			}
		}
		if ev, ok := ProgressEvent(n); ok {
			_, _ = board.Update(ev)
		}
		return nil
	})
}
