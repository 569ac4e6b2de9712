package bulk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// Source yields the EIDs of a run one at a time. Next returns ok == false once the source is exhausted,
// and an error when it cannot go on (a failed read); Run calls it from one goroutine only and stops at the
// first error. A Source that also has a Len() int method tells Run the total for progress reporting.
type Source interface {
	Next(ctx context.Context) (eid string, ok bool, err error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (string, bool, error)

// Next calls f.
func (f SourceFunc) Next(ctx context.Context) (string, bool, error) { return f(ctx) }

type sliceSource struct {
	eids []string
	i    int
}

// Slice is a Source over eids; it knows its length. Prefer Lines or Chan for fleets that need not be held
// in memory at once.
func Slice(eids []string) Source { return &sliceSource{eids: eids} }

func (s *sliceSource) Next(context.Context) (string, bool, error) {
	if s.i >= len(s.eids) {
		return "", false, nil
	}
	s.i++
	return s.eids[s.i-1], true, nil
}

func (s *sliceSource) Len() int { return len(s.eids) }

type chanSource struct{ ch <-chan string }

// Chan is a Source that receives EIDs from ch until it is closed (or the run's context ends).
func Chan(ch <-chan string) Source { return chanSource{ch} }

func (s chanSource) Next(ctx context.Context) (string, bool, error) {
	select {
	case eid, ok := <-s.ch:
		return eid, ok, nil
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

// ErrLineTooLong is returned by a Lines source for a line over 64 KiB.
var ErrLineTooLong = errors.New("bulk: input line too long")

type lineSource struct {
	sc   *bufio.Scanner
	line int
}

// Lines is a Source reading one EID per line from r, streamed: leading and trailing white space is
// trimmed, and empty lines and lines starting with '#' are skipped. It does not close r.
func Lines(r io.Reader) Source {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	return &lineSource{sc: sc}
}

func (s *lineSource) Next(context.Context) (string, bool, error) {
	for s.sc.Scan() {
		s.line++
		t := strings.TrimSpace(s.sc.Text())
		if t == "" || t[0] == '#' {
			continue
		}
		return t, true, nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = ErrLineTooLong
		}
		return "", false, fmt.Errorf("bulk: reading line %d: %w", s.line+1, err)
	}
	return "", false, nil
}

type seqSource struct {
	next func() (string, bool)
	stop func()
}

// Seq is a Source over an iterator. Run stops the iterator when it ends early.
func Seq(seq iter.Seq[string]) Source {
	next, stop := iter.Pull(seq)
	return &seqSource{next: next, stop: stop}
}

func (s *seqSource) Next(context.Context) (string, bool, error) {
	eid, ok := s.next()
	return eid, ok, nil
}

// Stop releases the iterator; Run calls it when it is done with the source.
func (s *seqSource) Stop() { s.stop() }
