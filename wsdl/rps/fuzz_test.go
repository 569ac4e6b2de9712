package rps_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// FuzzDecode decodes arbitrary bytes into every element type (through NewElement): decoding must never
// panic, and whatever decodes must encode and decode again.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.xml"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<ES4-EnableProfileRequest><Eid>zz</Eid></ES4-EnableProfileRequest>`))
	names := rps.ElementNames()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range names {
			d := xmltext.NewDecoder(data, xmltext.Limits{})
			if d.Root() != nil {
				return
			}
			el, _ := rps.NewElement(name)
			if el.DecodeXML(d) != nil {
				continue
			}
			again, _ := rps.NewElement(name)
			out := document(el.AppendXML(nil))
			d2 := xmltext.NewDecoder(out, xmltext.Limits{})
			if err := d2.Root(); err != nil {
				t.Fatalf("%s: re-encoded document unreadable: %v\n%s", name, err, out)
			}
			if err := again.DecodeXML(d2); err != nil {
				t.Fatalf("%s: re-encoded document does not decode: %v\n%s", name, err, out)
			}
		}
	})
}
