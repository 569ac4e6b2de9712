package rps_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// Every element survives MarshalElement and UnmarshalElement unchanged (what a durable store relies on).
func TestMarshalElementRoundTrip(t *testing.T) {
	for _, fn := range rps.Functions() {
		for _, name := range []string{fn.RequestElement, fn.ResponseElement} {
			if name == "" {
				continue
			}
			t.Run(name, func(t *testing.T) {
				el := populated(t, name)
				data := rps.MarshalElement(el)
				back, err := rps.UnmarshalElement(data)
				require.NoError(t, err, "%s", data)
				require.Equal(t, el, back)
			})
		}
	}
	empty, ok := rps.NewElement("ES4-EnableProfileResponse")
	require.True(t, ok)
	back, err := rps.UnmarshalElement(rps.MarshalElement(empty))
	require.NoError(t, err)
	require.Equal(t, empty, back)

	_, err = rps.UnmarshalElement([]byte(`<x:ES4-EnableProfileResponse xmlns:x="urn:other"/>`))
	require.ErrorContains(t, err, "not in the GSMA namespace")
	_, err = rps.UnmarshalElement([]byte(`<rps:Nope xmlns:rps="` + rps.Namespace + `"/>`))
	require.ErrorContains(t, err, "unknown element")
}

func FuzzUnmarshalElement(f *testing.F) {
	f.Add(rps.MarshalElement(&rps.ES4EnableProfileResponse{}))
	f.Add([]byte(`<rps:ES4-AuditEISResponse xmlns:rps="` + rps.Namespace + `"><rps:Eis/></rps:ES4-AuditEISResponse>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := rps.UnmarshalElement(data)
		if err != nil {
			return
		}
		again, err := rps.UnmarshalElement(rps.MarshalElement(el))
		require.NoError(t, err)
		require.Equal(t, el, again)
	})
}
