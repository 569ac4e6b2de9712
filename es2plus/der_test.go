package es2plus_test

// A tiny DER encoder for test vectors, written from the ASN.1 definition
// (see resultdata.go): tag bytes, definite length, value.

func tlv(tag []byte, parts ...[]byte) []byte {
	var v []byte
	for _, p := range parts {
		v = append(v, p...)
	}
	out := append([]byte{}, tag...)
	switch n := len(v); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, v...)
}

func t1(b byte) []byte { return []byte{b} }

var (
	tagPIR      = []byte{0xBF, 0x37}
	tagPIRD     = []byte{0xBF, 0x27}
	tagMeta     = []byte{0xBF, 0x2F}
	tagSig      = []byte{0x5F, 0x37}
	smdpOidDER  = []byte{0x06, 0x08, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8D, 0x1F} // 1.3.6.1.4.1.99999
	transaction = []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}
	isdpAID     = []byte{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x11, 0x00}
)

// metadata: seqNumber 7, install (bit 0 of 4, 4 unused bits: 07 80... here
// one byte with bit 0 set and 4 unused), address, ICCID 8931041010654378930F.
func metadata() []byte {
	return tlv(tagMeta,
		tlv(t1(0x80), []byte{0x07}),
		tlv(t1(0x81), []byte{0x04, 0x80}),
		tlv(t1(0x0C), []byte("smdp.example.com")),
		tlv(t1(0x5A), []byte{0x98, 0x13, 0x40, 0x01, 0x01, 0x56, 0x34, 0x87, 0x39, 0xF0}),
	)
}

func successResult() []byte {
	return tlv(t1(0xA2), tlv(t1(0xA0), tlv(t1(0x4F), isdpAID), tlv(t1(0x04), []byte{0x90, 0x00})))
}

func errorResult(cmd, reason []byte, sima []byte) []byte {
	parts := [][]byte{tlv(t1(0x80), cmd), tlv(t1(0x81), reason)}
	if sima != nil {
		parts = append(parts, tlv(t1(0x82), sima))
	}
	return tlv(t1(0xA2), tlv(t1(0xA1), parts...))
}

func pird(final []byte) []byte {
	return tlv(tagPIRD, tlv(t1(0x80), transaction), metadata(), smdpOidDER, final)
}

func pir(final []byte) []byte {
	return tlv(tagPIR, pird(final), tlv(tagSig, make([]byte, 64)))
}
