package interop_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/esimgw/esimgw/interop"
)

// The driver writes a Config for the peer script and reads the events the script prints.
func Example() {
	dir, err := os.MkdirTemp("", "interop")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	cfg := interop.Config{WSDLDir: "wsdl", OperatorID: "1.3.6.1.4.1.99999.10", EID: "89049032000001000000000000000171"}
	if err := cfg.Write(filepath.Join(dir, "peer.json")); err != nil {
		fmt.Println(err)
		return
	}
	e, err := interop.ParseEvent([]byte(`{"event":"result","peer":"zeep","check":"GetEIS","values":{"status":"EXECUTED_SUCCESS"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Peer, e.Check, e.Values["status"])
	// Output: zeep GetEIS EXECUTED_SUCCESS
}
