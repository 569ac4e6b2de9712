package es2plus_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/es2plus"
)

func TestParseResultDataSuccess(t *testing.T) {
	for name, der := range map[string][]byte{"BF27": pird(successResult()), "BF37": pir(successResult())} {
		t.Run(name, func(t *testing.T) {
			r, err := es2plus.ParseResultData(der)
			require.NoError(t, err)
			assert.True(t, r.Success)
			assert.Nil(t, r.Error)
			assert.Equal(t, isdpAID, r.AID)
			assert.Equal(t, []byte{0x90, 0x00}, r.SIMAResponse)
			assert.Equal(t, transaction, r.TransactionID)
			assert.Equal(t, "1.3.6.1.4.1.99999", r.SMDPOID)
			assert.Equal(t, int64(7), r.Notification.SeqNumber)
			assert.Equal(t, "smdp.example.com", r.Notification.Address)
			assert.Equal(t, "8931041010654378930", r.Notification.ICCID)
			assert.Equal(t, []byte{0x04, 0x80}, r.Notification.Operation)
			assert.Equal(t, der, r.Raw)
			assert.Equal(t, "success aid=A0000005591010FFFFFFFF8900001100", r.Summary())
			if name == "BF37" {
				assert.Len(t, r.Signature, 64)
			} else {
				assert.Nil(t, r.Signature)
			}
		})
	}
}

func TestParseResultDataErrors(t *testing.T) {
	tests := []struct {
		name    string
		der     []byte
		cmd     es2plus.BPPCommandID
		reason  es2plus.ErrorReason
		cmdName string
		rsnName string
		sima    []byte
	}{
		{"insufficient memory", pird(errorResult([]byte{5}, []byte{10}, []byte{0x6A, 0x84})), 5, 10, "loadProfileElements", "installFailedDueToInsufficientMemoryForProfile", []byte{0x6A, 0x84}},
		{"iccid exists", pird(errorResult([]byte{2}, []byte{9}, nil)), 2, 9, "storeMetadata", "installFailedDueToIccidAlreadyExistsOnEuicc", nil},
		{"invalid signature", pir(errorResult([]byte{0}, []byte{2}, nil)), 0, 2, "initialiseSecureChannel", "invalidSignature", nil},
		{"pe processing", pird(errorResult([]byte{5}, []byte{12}, nil)), 5, 12, "loadProfileElements", "installFailedDueToPEProcessingError", nil},
		{"unknown error", pird(errorResult([]byte{3}, []byte{127}, nil)), 3, 127, "storeMetadata2", "installFailedDueToUnknownError", nil},
		{"unknown codes", pird(errorResult([]byte{0x00, 0xFF}, []byte{0x63}, nil)), 255, 99, "unknown(255)", "unknown(99)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := es2plus.ParseResultData(tt.der)
			require.NoError(t, err)
			assert.False(t, r.Success)
			require.NotNil(t, r.Error)
			assert.Equal(t, tt.cmd, r.Error.BPPCommandID)
			assert.Equal(t, tt.reason, r.Error.ErrorReason)
			assert.Equal(t, tt.cmdName, r.Error.BPPCommandID.String())
			assert.Equal(t, tt.rsnName, r.Error.ErrorReason.String())
			assert.Equal(t, tt.sima, r.Error.SIMAResponse)
			assert.Equal(t, "bppCommandId="+tt.cmdName+" errorReason="+tt.rsnName, r.Summary())
		})
	}
}

func TestErrorReasonNames(t *testing.T) {
	for v, want := range map[es2plus.ErrorReason]string{
		1: "incorrectInputValues", 3: "invalidTransactionId", 4: "unsupportedCrtValues",
		5: "unsupportedRemoteOperationType", 6: "unsupportedProfileClass", 7: "scp03tStructureError",
		8: "scp03tSecurityError", 11: "installFailedDueToInterruption", 13: "installFailedDueToDataMismatch",
		14: "testProfileInstallFailedDueToInvalidNaaKey", 15: "pprNotAllowed", 26: "unknownTlvInMetadata",
		31: "installFailedDueToInsufficientMinimumSecurityLevel", 32: "installFailedDueToServerAddressAbsentInEuiccAllowList",
	} {
		assert.Equal(t, want, v.String())
	}
	for v, want := range map[es2plus.BPPCommandID]string{1: "configureISDP", 4: "replaceSessionKeys", -1: "unknown(-1)"} {
		assert.Equal(t, want, v.String())
	}
}

func TestParseResultDataBad(t *testing.T) {
	good := pird(errorResult([]byte{5}, []byte{10}, nil))
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty", nil, es2plus.ErrTruncated},
		{"one byte", []byte{0xBF}, es2plus.ErrTruncated},
		{"tag only", []byte{0xBF, 0x27}, es2plus.ErrTruncated},
		{"truncated value", good[:len(good)-3], es2plus.ErrTruncated},
		{"truncated long length", []byte{0xBF, 0x27, 0x82, 0x01}, es2plus.ErrTruncated},
		{"indefinite length", []byte{0xBF, 0x27, 0x80, 0x00, 0x00}, es2plus.ErrMalformed},
		{"huge length", []byte{0xBF, 0x27, 0x84, 0xFF, 0xFF, 0xFF, 0xFF}, es2plus.ErrMalformed},
		{"endless tag", []byte{0xBF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00}, es2plus.ErrMalformed},
		{"wrong outer tag", tlv(t1(0x30), tlv(t1(0x80), transaction)), es2plus.ErrMalformed},
		{"trailing garbage", append(append([]byte{}, good...), 0x00), es2plus.ErrMalformed},
		{"no final result", tlv(tagPIRD, tlv(t1(0x80), transaction), metadata()), es2plus.ErrMalformed},
		{"no transaction", tlv(tagPIRD, metadata(), successResult()), es2plus.ErrMalformed},
		{"final result empty", tlv(tagPIRD, tlv(t1(0x80), transaction), tlv(t1(0xA2))), es2plus.ErrTruncated},
		{"unknown choice", tlv(tagPIRD, tlv(t1(0x80), transaction), tlv(t1(0xA2), tlv(t1(0xA5)))), es2plus.ErrMalformed},
		{"error without reason", tlv(tagPIRD, tlv(t1(0x80), transaction), tlv(t1(0xA2), tlv(t1(0xA1), tlv(t1(0x80), []byte{1})))), es2plus.ErrMalformed},
		{"empty integer", tlv(tagPIRD, tlv(t1(0x80), transaction), tlv(t1(0xA2), tlv(t1(0xA1), tlv(t1(0x80)), tlv(t1(0x81), []byte{1})))), es2plus.ErrMalformed},
		{"success without aid", tlv(tagPIRD, tlv(t1(0x80), transaction), tlv(t1(0xA2), tlv(t1(0xA0), tlv(t1(0x04))))), es2plus.ErrMalformed},
		{"bad oid", tlv(tagPIRD, tlv(t1(0x80), transaction), tlv(t1(0x06), []byte{0x80}), successResult()), es2plus.ErrMalformed},
		{"BF37 without BF27", tlv(tagPIR, tlv(tagSig, []byte{1})), es2plus.ErrMalformed},
		{"primitive BF27", []byte{0x9F, 0x27, 0x00}, es2plus.ErrMalformed},
		{"garbage", []byte("not DER at all"), es2plus.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := es2plus.ParseResultData(tt.der)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, tt.want)
			var rde *es2plus.ResultDataError
			require.True(t, errors.As(err, &rde))
			assert.Equal(t, tt.der, rde.Raw)
			assert.GreaterOrEqual(t, rde.Offset, 0)
			assert.Contains(t, err.Error(), "resultData")
		})
	}
}
