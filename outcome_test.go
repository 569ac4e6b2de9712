package esimgw

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/esimgw/esimgw/correlate"
)

func TestOutcomeOf(t *testing.T) {
	failed := ExecutionStatus{Status: StatusFailed, Subject: "8.2.1", Reason: "3.9", SubjectIdentifier: "8931", Message: "unknown ICCID"}
	tests := []struct {
		name    string
		warning *Warning
		err     error
		want    Outcome
		ok      bool
	}{
		{"success", nil, nil, Outcome{Status: StatusExecutedSuccess}, true},
		{"warning", ExecutionStatus{Status: StatusExecutedWithWarning, Subject: "8.1", Reason: "3.8", Message: "m"}.Warning(), nil,
			Outcome{Status: StatusExecutedWithWarning, StatusCode: "8.1,3.8", Description: "eUICC: refused", Message: "m"}, true},
		{"warning without status", &Warning{Subject: "1.6"}, nil,
			Outcome{Status: StatusExecutedWithWarning, StatusCode: "1.6,", Description: "Function"}, true},
		{"failed", nil, fmt.Errorf("wrapped: %w", failed.Err("ES4", "EnableProfile")),
			Outcome{Status: StatusFailed, StatusCode: "8.2.1,3.9", Description: "Profile ICCID: unknown", Message: "unknown ICCID"}, false},
		{"error wins over warning", &Warning{Status: StatusExecutedWithWarning}, failed.Err("ES4", "EnableProfile"),
			Outcome{Status: StatusFailed, StatusCode: "8.2.1,3.9", Description: "Profile ICCID: unknown", Message: "unknown ICCID"}, false},
		{"expired without codes", nil, ExecutionStatus{Status: StatusExpired}.Err("ES2", "DownloadProfile"),
			Outcome{Status: StatusExpired}, false},
		{"unknown wire status kept raw", nil, ExecutionStatus{Status: "PARTIAL"}.Err("ES2", "X"),
			Outcome{Status: "PARTIAL"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OutcomeOf(tt.warning, tt.err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.ok, got.Succeeded())
		})
	}
}

func TestOutcomeOfLocal(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	tr := correlate.NewTracker()
	p, _ := tr.Register(testKey(1))
	_, waitErr := NewOperation[int](tr, p, nil).Wait(ctx)

	tests := []struct {
		name   string
		err    error
		status Status
		desc   string
	}{
		{"validation", ValidateEID("123"), StatusInvalidRequest, "invalid Eid: must be 32 hexadecimal digits"},
		{"wait deadline", waitErr, StatusNoResult, "no result before the deadline"},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), StatusNoResult, "canceled"},
		{"abandoned", ErrAbandoned, StatusNoResult, "abandoned"},
		{"transport", errors.New("dial tcp: connection refused"), StatusError, "transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OutcomeOf(nil, tt.err)
			assert.Equal(t, tt.status, got.Status)
			assert.Contains(t, got.Description, tt.desc)
			assert.Equal(t, tt.err.Error(), got.Message)
			assert.Empty(t, got.StatusCode)
			assert.False(t, got.Succeeded())
			assert.False(t, got.Status.IsWire(), "local statuses never look like wire values")
		})
	}
}
