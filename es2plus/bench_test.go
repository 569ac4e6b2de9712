package es2plus_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/esimgw/esimgw/es2plus"
	"github.com/esimgw/esimgw/progress"
)

func BenchmarkDecode(b *testing.B) {
	data := []byte(specExample())
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := es2plus.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResultData(b *testing.B) {
	der := pir(errorResult([]byte{5}, []byte{10}, []byte{0x6A, 0x84}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := es2plus.ParseResultData(der); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandler measures the whole path: headers, body, decode, dedup,
// application (feeding a board), 204. The first 4096 iterations are new
// notifications, later ones hit the de-duplication memory.
func BenchmarkHandler(b *testing.B) {
	board := progress.NewBoard(progress.WithMaxEntries(10000))
	h := es2plus.NewHTTPHandler(es2plus.FeedBoard(board, nil), es2plus.WithLogger(quiet))
	bodies := make([][]byte, 4096)
	for i := range bodies {
		bodies[i] = body(b, map[string]any{
			"header":              map[string]any{"functionRequesterIdentifier": "r", "functionCallIdentifier": "fc-" + strconv.Itoa(i)},
			"iccid":               "89310410106543" + strconv.Itoa(10000+i),
			"notificationPointId": 3,
		})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, es2plus.Path, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatal(w.Code)
		}
		i++
	}
}
