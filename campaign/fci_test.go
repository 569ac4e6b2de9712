package campaign

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseFunctionCallIdentifier(t *testing.T) {
	const eid = "89049032000001000000000000000017"
	tests := []struct {
		fci   string
		key   string
		round int
		ok    bool
	}{
		{FunctionCallIdentifier("fb-2026.12", 3, eid), "fb-2026.12", 3, true},
		{FunctionCallIdentifier("a", 1, eid), "a", 1, true},
		{"cmp--1-" + eid, "", 0, false},
		{"cmp-a-0-" + eid, "", 0, false},
		{"cmp-a-x-" + eid, "", 0, false},
		{"urn:uuid:1234", "", 0, false},
		{"cmp-a-1" + eid, "", 0, false},
	}
	for _, tt := range tests {
		key, round, e, ok := parseFunctionCallIdentifier(tt.fci)
		assert.Equal(t, tt.ok, ok, tt.fci)
		if ok {
			assert.Equal(t, []any{tt.key, tt.round, eid}, []any{key, round, e}, tt.fci)
		}
	}
}
