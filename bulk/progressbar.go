package bulk

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// ProgressBar renders Progress snapshots as a one-line terminal progress bar, redrawn in place with a
// carriage return, for the examples' command-line programs:
//
//	[=============>                ]  45.2%  45200/100000  ok 45190  failed 10  1830/s  ETA 30s
//
// When the total is unknown it shows counts, rate and elapsed time only. Its Update method fits
// WithProgress directly; the Final snapshot ends the line. It is safe for concurrent use.
type ProgressBar struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	label string
	line  []byte // scratch: the rendered line
	out   []byte // scratch: what is written
	last  int    // length of the previous line, to blank out what a shorter line leaves behind
	done  bool
}

// BarOption configures a ProgressBar.
type BarOption func(*ProgressBar)

// WithBarWidth sets the number of cells of the bar itself (default 30).
func WithBarWidth(n int) BarOption { return func(b *ProgressBar) { b.width = max(n, 1) } }

// WithLabel prefixes every line with label.
func WithLabel(label string) BarOption { return func(b *ProgressBar) { b.label = label } }

// NewProgressBar returns a bar drawing on w (usually os.Stderr).
func NewProgressBar(w io.Writer, opts ...BarOption) *ProgressBar {
	b := &ProgressBar{w: w, width: 30}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Update redraws the bar for p; a Final snapshot ends the line, and later updates are ignored.
func (b *ProgressBar) Update(p Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	line := b.render(b.line[:0], p)
	out := append(b.out[:0], '\r')
	out = append(out, line...)
	for i := len(line); i < b.last; i++ {
		out = append(out, ' ')
	}
	if p.Final {
		out = append(out, '\n')
		b.done = true
	}
	b.last = len(line)
	_, _ = b.w.Write(out)
	b.line, b.out = line, out
}

// Render returns the line Update would draw for p, without the carriage return.
func (b *ProgressBar) Render(p Progress) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.render(nil, p))
}

func (b *ProgressBar) render(s []byte, p Progress) []byte {
	if b.label != "" {
		s = append(s, b.label...)
		s = append(s, ' ')
	}
	if p.Total > 0 {
		frac := float64(p.Done) / float64(p.Total)
		frac = min(max(frac, 0), 1)
		filled := int(frac * float64(b.width))
		s = append(s, '[')
		for i := 0; i < b.width; i++ {
			switch {
			case i < filled:
				s = append(s, '=')
			case i == filled && filled < b.width:
				s = append(s, '>')
			default:
				s = append(s, ' ')
			}
		}
		s = append(s, "] "...)
		pct := strconv.FormatFloat(frac*100, 'f', 1, 64)
		for i := len(pct); i < 5; i++ {
			s = append(s, ' ')
		}
		s = append(s, pct...)
		s = append(s, "%  "...)
		s = strconv.AppendInt(s, p.Done, 10)
		s = append(s, '/')
		s = strconv.AppendInt(s, p.Total, 10)
	} else {
		s = strconv.AppendInt(s, p.Done, 10)
		s = append(s, " done"...)
	}
	s = append(s, "  ok "...)
	s = strconv.AppendInt(s, p.Succeeded, 10)
	s = append(s, "  failed "...)
	s = strconv.AppendInt(s, p.Failed, 10)
	s = append(s, "  "...)
	s = strconv.AppendFloat(s, p.Rate(), 'f', 0, 64)
	s = append(s, "/s"...)
	switch eta := p.ETA(); {
	case p.Final || p.Total <= 0:
		s = append(s, "  "...)
		s = append(s, p.Elapsed.Round(time.Second).String()...)
	case eta > 0:
		s = append(s, "  ETA "...)
		s = append(s, eta.Round(time.Second).String()...)
	}
	return s
}
