package bulk

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProgressBarRender(t *testing.T) {
	tests := []struct {
		name string
		opts []BarOption
		p    Progress
		want string
	}{
		{"start", []BarOption{WithBarWidth(10)}, Progress{Total: 100}, "[>         ]   0.0%  0/100  ok 0  failed 0  0/s"},
		{"half", []BarOption{WithBarWidth(10)},
			Progress{Total: 100, Done: 50, Succeeded: 49, Failed: 1, Elapsed: 5 * time.Second},
			"[=====>    ]  50.0%  50/100  ok 49  failed 1  10/s  ETA 5s"},
		{"final", []BarOption{WithBarWidth(4), WithLabel("audit")},
			Progress{Total: 8, Done: 8, Succeeded: 8, Elapsed: 2 * time.Second, Final: true},
			"audit [====] 100.0%  8/8  ok 8  failed 0  4/s  2s"},
		{"unknown total", nil, Progress{Done: 300, Succeeded: 300, Elapsed: 3 * time.Second},
			"300 done  ok 300  failed 0  100/s  3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NewProgressBar(nil, tt.opts...).Render(tt.p))
		})
	}
}

func TestProgressBarUpdate(t *testing.T) {
	var buf bytes.Buffer
	b := NewProgressBar(&buf, WithBarWidth(2))
	b.Update(Progress{Done: 12345, Succeeded: 12345, Elapsed: time.Second})
	b.Update(Progress{Done: 1, Failed: 1, Elapsed: time.Second, Final: true})
	b.Update(Progress{Done: 2}) // after the final snapshot: ignored
	out := buf.String()
	lines := strings.Split(out, "\r")
	assert.Equal(t, []string{"", "12345 done  ok 12345  failed 0  12345/s  1s", "1 done  ok 0  failed 1  1/s  1s" + strings.Repeat(" ", 43-31) + "\n"}, lines,
		"each update redraws from column 0 and blanks the rest of a longer previous line")
}
