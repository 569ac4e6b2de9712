package callback

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// soapOnly routes every request as the ServeMux holding only the SOAP route on "/" does: the same handler
// (or redirect, or refusal), the same answer, the same Request.Pattern.
func TestSOAPOnlyRoutesAsTheMux(t *testing.T) {
	var pattern string
	soap := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern = r.Pattern
		w.WriteHeader(http.StatusAccepted)
	})
	mux := http.NewServeMux()
	mux.Handle("/", soap)
	fast := soapOnly{mux: mux, soap: soap}
	targets := []string{"/", "/callbacks", "/callbacks/", "/a/b/c", "/a//b", "//a", "/a/./b", "/a/../b", "/a/.", "/a/..",
		"/.", "/..", "/a%2Fb", "/%2e%2e/x", "/a%20b", "/a?x=1", "/a/b/?x=/../", "/\u00e9", "/a;b", "*", "/a%2F..%2Fb", "/a/%2E/b", "/a/%2e%2E", "/a%2f%2fb", "/%7e/x"}
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodConnect, http.MethodOptions} {
		for _, target := range targets {
			req := func() *http.Request {
				r := httptest.NewRequest(method, "http://cb.example"+target, nil)
				if target == "*" {
					r = httptest.NewRequest(method, "http://cb.example/", nil)
					r.RequestURI, r.URL.Path = "*", "*"
				}
				return r
			}
			pattern = "unset"
			want := httptest.NewRecorder()
			mux.ServeHTTP(want, req())
			wantPattern := pattern
			pattern = "unset"
			got := httptest.NewRecorder()
			fast.ServeHTTP(got, req())
			assert.Equal(t, want.Code, got.Code, "%s %s", method, target)
			assert.Equal(t, want.Header().Get("Location"), got.Header().Get("Location"), "%s %s", method, target)
			assert.Equal(t, wantPattern, pattern, "%s %s", method, target)
		}
	}
}

func TestIsCleanPath(t *testing.T) {
	for p, want := range map[string]bool{"/": true, "/a": true, "/a/": true, "/a/b": true, "": false, "a": false, "//": false,
		"/a//": false, "/./": false, "/a/./": false, "/a/../": false, "/a/..": false, "/.": false, "/...": true, "/a/.b": true} {
		assert.Equal(t, want, isCleanPath(p), p)
	}
}
