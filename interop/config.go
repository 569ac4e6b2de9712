package interop

import (
	"encoding/json"
	"fmt"
	"os"
)

// Config is what the Go driver hands a peer script (as a JSON file whose path is the script's first
// argument): where the mock gateway and the callback server listen, the PEM files for mutual TLS, the
// WSDL folder and the eUICC to work on. Every address is on loopback.
type Config struct {
	// WSDLDir is the repository's wsdl/ folder: peers build their clients and servers from these WSDLs.
	WSDLDir string `json:"wsdl_dir"`
	// PKI: the mock's CA, the operator client certificate (peers calling the mock, or notifying the
	// callback server), and a server certificate for localhost (peers' own servers).
	CA         string `json:"ca"`
	ClientCert string `json:"client_cert"`
	ClientKey  string `json:"client_key"`
	ServerCert string `json:"server_cert"`
	ServerKey  string `json:"server_key"`
	// The mock gateway (gatewaytest): endpoints and entity identifiers.
	ES4URL     string `json:"es4_url,omitempty"`
	ES2URL     string `json:"es2_url,omitempty"`
	SMSRID     string `json:"smsr_id,omitempty"`
	SMDPID     string `json:"smdp_id,omitempty"`
	OperatorID string `json:"operator_id"`
	// CallbackURL is esimgw's callback.Server, the target of peers acting as notifiers.
	CallbackURL string `json:"callback_url,omitempty"`
	// The eUICC and its profiles.
	EID           string `json:"eid"`
	EnabledICCID  string `json:"enabled_iccid"`
	DisabledICCID string `json:"disabled_iccid"`
}

// Write stores c as JSON at path.
func (c Config) Write(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("interop: encoding the peer configuration: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("interop: writing the peer configuration: %w", err)
	}
	return nil
}

// Event is one line a peer script prints on stdout, as JSON: "listening" (its server's URL), "result"
// (one check, with the values the peer parsed), or "error".
type Event struct {
	Event  string         `json:"event"`
	Peer   string         `json:"peer"`
	Check  string         `json:"check,omitempty"`
	URL    string         `json:"url,omitempty"`
	Error  string         `json:"error,omitempty"`
	Values map[string]any `json:"values,omitempty"`
}

// ParseEvent decodes one line of a peer's output.
func ParseEvent(line []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(line, &e); err != nil {
		return Event{}, fmt.Errorf("interop: peer output %q is not an event: %w", line, err)
	}
	if e.Event == "" {
		return Event{}, fmt.Errorf("interop: peer output %q has no event", line)
	}
	return e, nil
}
