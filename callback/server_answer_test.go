package callback_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// TestCallbackServerAnswersWithLength checks that the CallbackServer's answers (the 202 of a callback, a
// fault) carry a Content-Length: sent chunked, an answer takes a second write for the end of its chunks,
// and the gateway a second read.
func TestCallbackServerAnswersWithLength(t *testing.T) {
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
	s, _ := startServer(t, d, callback.WithPlainHTTP(), callback.WithLogger(quietLogger()))
	resp := &rps.ES4EnableProfileResponse{}
	resp.FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
	cbEnvelope := string(soap.AppendEnvelope(nil, &soap.Header{MessageID: "//1.3.6.1.4.1.99999.20/urn:uuid:1", RelatesTo: "//1.3.6.1.4.1.99999.10/urn:uuid:2",
		Action: "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile"}, resp))
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"callback", cbEnvelope, http.StatusAccepted},
		{"malformed", strings.Replace(cbEnvelope, "</env:Body>", "", 1), http.StatusBadRequest},
	}
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(tt.body), tt.body)
			require.NoError(t, err)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
			res, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, res.StatusCode)
			assert.Empty(t, res.TransferEncoding, "not chunked")
			assert.Equal(t, int64(len(body)), res.ContentLength)
		})
	}
}
