package digirm_test

import (
	"errors"
	"testing"

	"github.com/esimgw/esimgw/digirm"
)

func seeds(f *testing.F, ss ...string) {
	for _, s := range ss {
		f.Add([]byte(s))
	}
}

// FuzzDecodeTransaction: any answer decodes to a transaction with an id or is refused with ErrMalformed.
func FuzzDecodeTransaction(f *testing.F) {
	seeds(f, `{"transaction":"tx-1","action":"enable","status":"in_progress","customer_id":4242}`,
		`{"transaction":17,"status":"failed","message_code":"x","message":"y"}`, `{"transaction":null}`, `{}`, `[]`,
		`{"transaction":"a"} {}`, "{\"transaction\":\"\xff\"}", `{"transaction":1e999}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := digirm.DecodeTransaction(b)
		if err != nil {
			if !errors.Is(err, digirm.ErrMalformed) {
				t.Fatalf("%v does not wrap ErrMalformed", err)
			}
			return
		}
		if tx.Transaction == "" {
			t.Fatal("a transaction without id")
		}
		_ = tx.Done()
	})
}

// FuzzDecodeProfilePage: any inventory page decodes (at most MaxPageSize items) or is refused.
func FuzzDecodeProfilePage(f *testing.F) {
	seeds(f, `{"count":1,"size":1000,"cursor":"c-1","list":[{"iccid":"8931","status":"active","id":3}]}`,
		`{"list":null}`, `{"list":[{}]}`, `{"cursor":5}`, `null`)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := digirm.DecodeProfilePage(b)
		if err != nil {
			if !errors.Is(err, digirm.ErrMalformed) {
				t.Fatalf("%v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(p.List) > digirm.MaxPageSize {
			t.Fatalf("%d items", len(p.List))
		}
		for _, pr := range p.List {
			_ = pr.State()
		}
	})
}

// FuzzDecodeTransactionPage: any transactions/inventory page decodes (at most MaxPageSize transactions,
// each with an id) or is refused.
func FuzzDecodeTransactionPage(f *testing.F) {
	seeds(f, `{"count":1,"size":1000,"cursor":"c-1","list":[{"transaction":"tx-1","action":"enable","status":"complete"}]}`,
		`{"list":[{"transaction":7,"customer_id":4242}]}`, `{"list":[{}]}`, `{"list":[{"transaction":"a"}],"cursor":[]}`, `{"list":null}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := digirm.DecodeTransactionPage(b)
		if err != nil {
			if !errors.Is(err, digirm.ErrMalformed) {
				t.Fatalf("%v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(p.List) > digirm.MaxPageSize {
			t.Fatalf("%d items", len(p.List))
		}
		for _, tx := range p.List {
			if tx.Transaction == "" {
				t.Fatal("a transaction without id")
			}
		}
	})
}

// FuzzDecodeMultistepOperation: any operation answer decodes with an id or is refused.
func FuzzDecodeMultistepOperation(f *testing.F) {
	seeds(f, `{"id":12,"operation":"activate","status":"download_verify","download_tx":"tx-1"}`, `{"id":""}`, `{"id":[]}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := digirm.DecodeMultistepOperation(b)
		if err != nil {
			if !errors.Is(err, digirm.ErrMalformed) {
				t.Fatalf("%v does not wrap ErrMalformed", err)
			}
			return
		}
		if o.ID == "" {
			t.Fatal("an operation without id")
		}
		_ = o.Done()
	})
}
