package campaign

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Entry is one EID of a campaign source with its per-EID argument (an ICCID, an SM-SR OID, a profile to
// download: what the campaign's function takes; empty to use the campaign's default argument).
type Entry struct {
	Line int64 // 1-based line number in the input, for reports
	EID  string
	Arg  string
}

// Source yields the entries of a campaign one at a time, so that a file of millions of EIDs is streamed,
// never held in memory. Next returns ok == false at the end. A *LineError reports one bad line: the caller
// may go on reading. Any other error ends the source.
type Source interface {
	Next(ctx context.Context) (e Entry, ok bool, err error)
}

// LineError is a bad input line: its number, the text (cut to 80 bytes) and what is wrong with it.
type LineError struct {
	Line int64
	Text string
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("campaign: line %d %q: %v", e.Line, e.Text, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ErrLineTooLong is the error of a LineError for a line over MaxLineBytes; the source cannot go on after it.
var ErrLineTooLong = errors.New("campaign: input line too long")

// MaxLineBytes bounds an input line.
const MaxLineBytes = 64 << 10

func cut(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

type lineSource struct {
	sc   *bufio.Scanner
	line int64
	// parse turns a non-blank, non-comment line into an entry.
	parse func(text string) (eid, arg string, err error)
}

func newLineSource(r io.Reader, parse func(string) (string, string, error)) *lineSource {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	return &lineSource{sc: sc, parse: parse}
}

func (s *lineSource) Next(ctx context.Context) (Entry, bool, error) {
	for s.sc.Scan() {
		s.line++
		t := strings.TrimSpace(s.sc.Text())
		if t == "" || t[0] == '#' {
			continue
		}
		eid, arg, err := s.parse(t)
		if err != nil {
			return Entry{}, false, &LineError{Line: s.line, Text: cut(t), Err: err}
		}
		return Entry{Line: s.line, EID: eid, Arg: arg}, true, nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Entry{}, false, fmt.Errorf("campaign: line %d: %w", s.line+1, ErrLineTooLong)
		}
		return Entry{}, false, fmt.Errorf("campaign: reading line %d: %w", s.line+1, err)
	}
	return Entry{}, false, nil
}

// Lines reads one EID per line, optionally followed by white space and the per-EID argument
// ("89049032... 8931...."). Blank lines and lines starting with '#' are skipped. It does not close r.
func Lines(r io.Reader) Source {
	return newLineSource(r, func(t string) (string, string, error) {
		f := strings.Fields(t)
		switch len(f) {
		case 1:
			return f[0], "", nil
		case 2:
			return f[0], f[1], nil
		}
		return "", "", fmt.Errorf("want an EID and at most one argument, got %d fields", len(f))
	})
}

// CSV reads comma-separated lines: the EID, then optionally the argument. A first line whose first field
// is "eid" (any case) is a header and skipped. Quoted fields are allowed; a field may not span lines.
func CSV(r io.Reader) Source {
	s := newLineSource(r, nil)
	s.parse = func(t string) (string, string, error) {
		rec, err := csv.NewReader(strings.NewReader(t)).Read()
		if err != nil {
			return "", "", err
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rec) > 2 {
			return "", "", fmt.Errorf("want eid[,arg], got %d fields", len(rec))
		}
		if s.line == 1 && strings.EqualFold(rec[0], "eid") {
			return "", "", errHeader
		}
		if len(rec) == 2 {
			return rec[0], rec[1], nil
		}
		return rec[0], "", nil
	}
	return headerSkipper{s}
}

var errHeader = errors.New("header")

// headerSkipper drops the LineError of a CSV header line.
type headerSkipper struct{ *lineSource }

func (h headerSkipper) Next(ctx context.Context) (Entry, bool, error) {
	e, ok, err := h.lineSource.Next(ctx)
	var le *LineError
	if errors.As(err, &le) && errors.Is(le.Err, errHeader) {
		return h.lineSource.Next(ctx)
	}
	return e, ok, err
}

// JSONLines reads one JSON object per line: {"eid": "...", "arg": "..."}. "iccid" is accepted for "arg",
// "profileType" for an "arg" of ProfileTypePrefix and the type (ES2.DownloadProfile, ES2.Activate), and
// "activationCode" for one of ActivationCodePrefix and the code (DigiRM.Download); a line gives at most
// one of the four.
func JSONLines(r io.Reader) Source {
	return newLineSource(r, func(t string) (string, string, error) {
		var v struct {
			EID         string `json:"eid"`
			Arg         string `json:"arg"`
			ICCID       string `json:"iccid"`
			ProfileType string `json:"profileType"`
			Code        string `json:"activationCode"`
		}
		dec := json.NewDecoder(strings.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return "", "", fmt.Errorf("not a campaign JSON object: %w", err)
		}
		given := 0
		for _, f := range []string{v.Arg, v.ICCID, v.ProfileType, v.Code} {
			if f != "" {
				given++
			}
		}
		switch {
		case given > 1:
			return "", "", errors.New(`give at most one of "arg", "iccid", "profileType" and "activationCode"`)
		case v.ProfileType != "":
			return v.EID, ProfileTypePrefix + v.ProfileType, nil
		case v.Code != "":
			return v.EID, ActivationCodePrefix + v.Code, nil
		}
		return v.EID, v.Arg + v.ICCID, nil
	})
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Entry, bool, error)

// Next calls f.
func (f SourceFunc) Next(ctx context.Context) (Entry, bool, error) { return f(ctx) }

// Slice is a Source over EIDs held in memory, numbered from line 1: for tests and small campaigns.
func Slice(eids ...string) Source {
	i := 0
	return SourceFunc(func(context.Context) (Entry, bool, error) {
		if i >= len(eids) {
			return Entry{}, false, nil
		}
		i++
		return Entry{Line: int64(i), EID: eids[i-1]}, true, nil
	})
}
