package soap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReleaseKeepsDecodedValues: what was decoded from a released Message, and its header strings, stay
// intact while the recycled memory carries later responses.
func TestReleaseKeepsDecodedValues(t *testing.T) {
	c, mt := mockedClient(t)
	n := 0
	mt.RegisterResponder(http.MethodPost, endpoint, func(*http.Request) (*http.Response, error) {
		n++
		id := strconv.Itoa(n)
		sec := []byte(`<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:Token>secret-` + id + `</wsse:Token></wsse:Security>`)
		reply := AppendEnvelope(nil, &Header{RelatesTo: "relates-" + id, Action: "urn:answer-" + id, Extra: sec},
			&testBody{Name: "ES4-GetEISResponse", Eid: strings.Repeat(id, 32), Iccd: "iccid-" + id})
		r := httpmock.NewBytesResponse(http.StatusOK, reply)
		r.Header.Set("Content-Type", "application/soap+xml")
		return r, nil
	})
	type kept struct {
		body      testBody
		relatesTo string
		action    string
		security  []byte
	}
	var all []kept
	for i := 1; i <= 50; i++ {
		h, req := request()
		resp, err := c.Call(context.Background(), endpoint, h, req)
		require.NoError(t, err)
		var k kept
		require.NoError(t, resp.Message.DecodeBody(&k.body))
		k.relatesTo, k.action, k.security = resp.Message.Header.RelatesTo, resp.Message.Header.Action, resp.Message.Header.Security
		resp.Message.Release()
		all = append(all, k)
	}
	for i, k := range all {
		id := strconv.Itoa(i + 1)
		assert.Equal(t, strings.Repeat(id, 32), k.body.Eid, "call %d", i+1)
		assert.Equal(t, "iccid-"+id, k.body.Iccd, "call %d", i+1)
		assert.Equal(t, "relates-"+id, k.relatesTo, "call %d", i+1)
		assert.Equal(t, "urn:answer-"+id, k.action, "call %d", i+1)
		assert.Contains(t, string(k.security), "secret-"+id+"<", "call %d", i+1)
	}
}

func TestReleaseIsSafeOnAnyMessage(t *testing.T) {
	h, body := request()
	m, err := ReadMessage(AppendEnvelope(nil, h, body), ReadOptions{})
	require.NoError(t, err)
	m.Release() // not from a Client: nothing to recycle, nothing cleared
	var got testBody
	require.NoError(t, m.DecodeBody(&got))
	assert.Equal(t, body.Eid, got.Eid)
}

func TestReadInto(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 3000)
	tests := []struct {
		name    string
		r       io.Reader
		size    int64
		max     int64
		want    int
		tooBig  bool
		readErr bool
	}{
		{name: "known size", r: bytes.NewReader(payload), size: 3000, max: 4000, want: 3000},
		{name: "unknown size", r: bytes.NewReader(payload), size: -1, max: 4000, want: 3000},
		{name: "size announced too small", r: bytes.NewReader(payload), size: 10, max: 4000, want: 3000},
		{name: "one byte at a time", r: iotest.OneByteReader(bytes.NewReader(payload)), size: -1, max: 4000, want: 3000},
		{name: "exactly max", r: bytes.NewReader(payload), size: -1, max: 3000, want: 3000},
		{name: "one over max", r: bytes.NewReader(payload), size: -1, max: 2999, tooBig: true},
		{name: "announced over max", r: bytes.NewReader(payload), size: 5000, max: 4000, tooBig: true},
		{name: "empty", r: bytes.NewReader(nil), size: 0, max: 10, want: 0},
		{name: "read error", r: iotest.ErrReader(errors.New("reset")), size: -1, max: 10, readErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readInto([]byte("prefix"), tt.r, tt.size, tt.max)
			switch {
			case tt.tooBig:
				require.ErrorIs(t, err, ErrTooLarge)
				assert.LessOrEqual(t, int64(len(got)-len("prefix")), tt.max+1, "reads stop one byte past max")
			case tt.readErr:
				require.Error(t, err)
			default:
				require.NoError(t, err)
				assert.Equal(t, "prefix", string(got[:6]))
				assert.Len(t, got, 6+tt.want)
			}
		})
	}
}

// TestReadBudgeted: a body announced shorter than firstRead takes only its size (and a byte) from the
// budget; one announced longer, or not at all, starts at firstRead; lies about the size only cost growth.
func TestReadBudgeted(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 3000)
	tests := []struct {
		name     string
		r        io.Reader
		size     int64
		max      int64
		want     int
		wantHeld int64
		tooBig   bool
	}{
		{name: "known small size", r: bytes.NewReader(payload), size: 3000, max: 1 << 20, want: 3000, wantHeld: 3001},
		{name: "known small size, one byte at a time", r: iotest.OneByteReader(bytes.NewReader(payload)), size: 3000, max: 1 << 20, want: 3000, wantHeld: 3001},
		{name: "unknown size", r: bytes.NewReader(payload), size: -1, max: 1 << 20, want: 3000, wantHeld: firstRead},
		{name: "announced large", r: bytes.NewReader(payload), size: 1 << 19, max: 1 << 20, want: 3000, wantHeld: firstRead},
		{name: "announced too small", r: bytes.NewReader(payload), size: 10, max: 1 << 20, want: 3000, wantHeld: 11 << 9},
		{name: "empty", r: bytes.NewReader(nil), size: 0, max: 10, want: 0, wantHeld: 1},
		{name: "announced small, over max", r: bytes.NewReader(payload), size: 100, max: 2999, tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBodyBudget(1 << 20)
			got, held, err := readBudgeted(tt.r, tt.size, tt.max, b)
			assert.Equal(t, held, b.InUse(), "what is held is what the budget lent")
			if tt.tooBig {
				require.ErrorIs(t, err, ErrTooLarge)
				return
			}
			require.NoError(t, err)
			assert.Len(t, got, tt.want)
			assert.Equal(t, tt.wantHeld, held)
		})
	}
}

// MaxElapsed bounds the whole call, the first attempt included: a first attempt that used it up is not
// followed by another.
func TestMaxElapsedCountsTheFirstAttempt(t *testing.T) {
	c, mt := mockedClient(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 5, InitialInterval: time.Millisecond, MaxElapsed: 100 * time.Millisecond}))
	calls := 0
	mt.RegisterResponder(http.MethodPost, endpoint, func(*http.Request) (*http.Response, error) {
		calls++
		time.Sleep(150 * time.Millisecond)
		return httpmock.NewStringResponse(http.StatusServiceUnavailable, ""), nil
	})
	h, body := request()
	_, err := c.Call(context.Background(), endpoint, h, body)
	var ce *CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 1, ce.Attempts)
	assert.Equal(t, 1, calls)
}

// A pooled Message that came back from a failed read, an empty acknowledgement or an error status carries
// nothing into the next answer read with it.
func TestRecycledMessageAfterFailures(t *testing.T) {
	c, mt := mockedClient(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	n := 0
	mt.RegisterResponder(http.MethodPost, endpoint, func(*http.Request) (*http.Response, error) {
		n++
		id := strconv.Itoa(n)
		good := AppendEnvelope(nil, &Header{RelatesTo: "relates-" + id, Action: "urn:answer-" + id},
			&testBody{Name: "ES4-GetEISResponse", Eid: strings.Repeat(id, 32), Iccd: "iccid-" + id})
		var r *http.Response
		switch n % 4 {
		case 1:
			r = httpmock.NewBytesResponse(http.StatusOK, good)
		case 2:
			r = httpmock.NewBytesResponse(http.StatusOK, good[:len(good)/2]) // cut short: malformed
		case 3:
			r = httpmock.NewBytesResponse(http.StatusAccepted, nil)
		default:
			r = httpmock.NewStringResponse(http.StatusInternalServerError, "<html>"+strings.Repeat(id, 600)+"</html>")
			r.Header.Set("Content-Type", "text/html")
			return r, nil
		}
		r.Header.Set("Content-Type", "application/soap+xml")
		return r, nil
	})
	for i := 1; i <= 40; i++ {
		h, req := request()
		resp, err := c.Call(context.Background(), endpoint, h, req)
		switch i % 4 {
		case 1:
			require.NoError(t, err, "call %d", i)
			id := strconv.Itoa(i)
			var body testBody
			require.NoError(t, resp.Message.DecodeBody(&body))
			assert.Equal(t, strings.Repeat(id, 32), body.Eid, "call %d", i)
			assert.Equal(t, "relates-"+id, resp.Message.Header.RelatesTo, "call %d", i)
			assert.Empty(t, resp.Message.Header.ReplyTo)
			resp.Message.Release()
		case 3:
			require.NoError(t, err, "call %d", i)
			assert.Nil(t, resp.Message)
		default:
			require.Error(t, err, "call %d", i)
		}
	}
}

// Each answer's HTTPHeader is its own until its Message is released, whether the Transport parsed the
// answer (a map kept with the pooled Message) or net/http did (chunked: a clone of net/http's map).
func TestRecycledHTTPHeader(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n++
		id := strconv.Itoa(n)
		reply := AppendEnvelope(nil, &Header{RelatesTo: "relates-" + id, Action: "urn:answer-" + id},
			&testBody{Name: "ES4-GetEISResponse", Eid: id, Iccd: id})
		w.Header().Set("Content-Type", "application/soap+xml")
		w.Header().Set("X-Seq", id)
		if n%3 == 0 {
			w.(http.Flusher).Flush() // no Content-Length: chunked, read by net/http
		}
		_, _ = w.Write(reply)
	}))
	defer srv.Close()
	c := NewClient(WithTLSConfig(nil))
	defer c.rt.CloseIdleConnections()
	var kept []http.Header
	for i := 1; i <= 12; i++ {
		h, req := request()
		resp, err := c.Call(context.Background(), srv.URL, h, req)
		require.NoError(t, err)
		id := strconv.Itoa(i)
		assert.Equal(t, id, resp.Message.HTTPHeader.Get("X-Seq"), "call %d", i)
		assert.Equal(t, "relates-"+id, resp.Message.Header.RelatesTo, "call %d", i)
		kept = append(kept, resp.Message.HTTPHeader.Clone())
		resp.Message.Release()
	}
	for i, h := range kept {
		assert.Equal(t, strconv.Itoa(i+1), h.Get("X-Seq"))
	}
}

// A Client on someone else's http.Client never empties the header maps its transport returned: they
// may be that transport's own.
func TestReleaseLeavesForeignHeaderMaps(t *testing.T) {
	c, mt := mockedClient(t)
	shared := http.Header{"Content-Type": {"application/soap+xml"}, "X-Shared": {"yes"}}
	mt.RegisterResponder(http.MethodPost, endpoint, func(*http.Request) (*http.Response, error) {
		reply := AppendEnvelope(nil, &Header{RelatesTo: "r", Action: "urn:a"}, &testBody{Name: "ES4-GetEISResponse", Eid: "1"})
		r := httpmock.NewBytesResponse(http.StatusOK, reply)
		r.Header = shared
		return r, nil
	})
	for range 3 {
		h, req := request()
		resp, err := c.Call(context.Background(), endpoint, h, req)
		require.NoError(t, err)
		resp.Message.Release()
	}
	assert.Equal(t, "yes", shared.Get("X-Shared"))
}

// TestHeldMessageKeepsItsHeader: a Message the caller holds (not released) keeps its answer's header
// values while the Client serves more calls on the same pooled memory, one after the other and at once.
func TestHeldMessageKeepsItsHeader(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := strconv.FormatInt(n.Add(1), 10)
		reply := AppendEnvelope(nil, &Header{RelatesTo: "relates-" + id, Action: "urn:answer-" + id},
			&testBody{Name: "ES4-GetEISResponse", Eid: id, Iccd: id})
		w.Header().Set("Content-Type", "application/soap+xml")
		w.Header().Set("X-Seq", "seq-"+id)
		_, _ = w.Write(reply)
	}))
	defer srv.Close()
	c := NewClient(WithTLSConfig(nil))
	defer c.rt.CloseIdleConnections()

	h, req := request()
	first, err := c.Call(t.Context(), srv.URL, h, req)
	require.NoError(t, err)
	want := first.Message.HTTPHeader.Get("X-Seq")
	require.Equal(t, "seq-1", want)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				h, req := request()
				r, err := c.Call(t.Context(), srv.URL, h, req)
				if !assert.NoError(t, err) {
					return
				}
				seq := r.Message.HTTPHeader.Get("X-Seq")
				assert.Equal(t, "seq-", seq[:4])
				r.Message.Release()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, want, first.Message.HTTPHeader.Get("X-Seq"), "a held Message's header changed under later calls")
	first.Message.Release()
}
