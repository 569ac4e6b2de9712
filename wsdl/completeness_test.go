package wsdl_test

// The completeness test: the WSDL files are the list of functions, and everything a function needs must
// exist for each of them. The tables are generated from the WSDLs (wsdl/internal/tablegen), so this test
// reads the WSDLs itself, independently of the generator, and fails when a function of ES2_SmDp.wsdl or
// ES4_SmSr.wsdl lacks its row in rps.Functions (with the WSDL's elements, mode and Actions: a stale
// go generate), its callback operation in the operator-side WSDL, its request and response codecs, a
// method on es2.Client or es4.Client, a working behaviour in the mock gateway (a missing one does not even
// compile: the generated dispatch table calls it), or a row in the README's supported-functions table; and
// when a notification of ES2_Mno.wsdl or ES4_Mno.wsdl lacks its rps.Notifications row, its decoder and
// accessor, its esimgw.Notifications handler field or its README row. It also fails on table rows no WSDL
// declares. CONTRIBUTING.md says how to add a function.

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// wsdlOperation is one wsdl:operation of a portType, resolved to body elements.
type wsdlOperation struct {
	name                        string // "ES4-EnableProfile"
	inputElement, inputAction   string
	outputElement, outputAction string // "" for a one-way operation
}

// readPortType parses file and returns the operations of its single portType.
func readPortType(t *testing.T, file string) []wsdlOperation {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromFile(file))
	root := doc.Root()
	require.NotNil(t, root, file)
	elementOf := map[string]string{} // message name -> element local name
	for _, m := range root.SelectElements("message") {
		part := m.SelectElement("part")
		require.NotNil(t, part, "%s: message %s has no part", file, m.SelectAttrValue("name", ""))
		elementOf[m.SelectAttrValue("name", "")] = local(part.SelectAttrValue("element", ""))
	}
	pts := root.SelectElements("portType")
	require.Len(t, pts, 1, "%s: want one portType", file)
	var ops []wsdlOperation
	for _, op := range pts[0].SelectElements("operation") {
		o := wsdlOperation{name: op.SelectAttrValue("name", "")}
		in := op.SelectElement("input")
		require.NotNil(t, in, "%s: operation %s has no input", file, o.name)
		o.inputElement, o.inputAction = elementOf[local(in.SelectAttrValue("message", ""))], action(in)
		if out := op.SelectElement("output"); out != nil {
			o.outputElement, o.outputAction = elementOf[local(out.SelectAttrValue("message", ""))], action(out)
		}
		require.NotEmpty(t, o.inputElement, "%s: operation %s: input message unresolved", file, o.name)
		ops = append(ops, o)
	}
	require.NotEmpty(t, ops, file)
	return ops
}

func local(qname string) string {
	if i := strings.IndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

// action is the wsam:Action attribute (any prefix bound to the metadata namespace).
func action(e *etree.Element) string {
	for _, a := range e.Attr {
		if a.Key == "Action" {
			return a.Value
		}
	}
	return ""
}

// operatorSide returns the callbacks (by element) and notifications (by element) of an operator-side WSDL.
func operatorSide(t *testing.T, file string) (callbacks, notifications map[string]wsdlOperation) {
	callbacks, notifications = map[string]wsdlOperation{}, map[string]wsdlOperation{}
	for _, op := range readPortType(t, file) {
		switch {
		case strings.HasSuffix(op.name, "Callback"):
			callbacks[op.inputElement] = op
		case strings.Contains(op.name, "-Handle") && strings.HasSuffix(op.name, "Notification"):
			notifications[op.inputElement] = op
		default:
			t.Errorf("%s: operation %s is neither a callback nor a notification", file, op.name)
		}
	}
	return callbacks, notifications
}

var services = []struct {
	iface              rps.Interface
	provider, operator string // the WSDL the operator calls, and the one it serves
	client             reflect.Type
}{
	{rps.ES2, "ES2_SmDp.wsdl", "ES2_Mno.wsdl", reflect.TypeFor[*es2.Client]()},
	{rps.ES4, "ES4_SmSr.wsdl", "ES4_Mno.wsdl", reflect.TypeFor[*es4.Client]()},
}

func readmeRows(t *testing.T) string {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	s := string(b)
	begin, end := strings.Index(s, "<!-- supported-functions: begin"), strings.Index(s, "<!-- supported-functions: end")
	require.True(t, begin >= 0 && end > begin, "README.md has no supported-functions table markers")
	return s[begin:end]
}

func TestEveryWSDLFunctionIsComplete(t *testing.T) {
	readme := readmeRows(t)
	declared := map[string]bool{} // "ES4 EnableProfile", from the WSDLs
	for _, svc := range services {
		callbacks, _ := operatorSide(t, svc.operator)
		for _, op := range readPortType(t, svc.provider) {
			name, ok := strings.CutPrefix(op.name, string(svc.iface)+"-")
			require.True(t, ok, "%s: operation %s lacks the %s- prefix", svc.provider, op.name, svc.iface)
			declared[string(svc.iface)+" "+name] = true
			t.Run(string(svc.iface)+"/"+name, func(t *testing.T) {
				f, ok := rps.FunctionByName(svc.iface, name)
				require.True(t, ok, "rps.Functions has no row for %s %s (go generate ./wsdl/...)", svc.iface, name)
				assert.Equal(t, op.inputElement, f.RequestElement, "request element")
				assert.Equal(t, op.inputAction, f.RequestAction, "request Action")
				if op.outputElement != "" {
					assert.Equal(t, rps.Sync, f.Mode, "the WSDL operation has an output: sync")
					assert.Equal(t, op.outputElement, f.ResponseElement, "response element")
					assert.Equal(t, op.outputAction, f.ResponseAction, "response Action")
				} else {
					assert.Equal(t, rps.Async, f.Mode, "the WSDL operation is one-way: async")
					cb, ok := callbacks[f.ResponseElement]
					if assert.True(t, ok, "%s: no callback operation carries %s", svc.operator, f.ResponseElement) {
						assert.Equal(t, cb.inputAction, f.ResponseAction, "callback Action")
					}
				}

				req, ok := rps.NewElement(f.RequestElement)
				require.True(t, ok, "wsdl/rps: no codec for %s (go generate ./wsdl/...)", f.RequestElement)
				assert.Implements(t, (*rps.Request)(nil), req)
				resp, ok := rps.NewElement(f.ResponseElement)
				require.True(t, ok, "wsdl/rps: no codec for %s (go generate ./wsdl/...)", f.ResponseElement)
				assert.Implements(t, (*rps.Response)(nil), resp)

				m, ok := svc.client.MethodByName(f.Name)
				require.True(t, ok, "%s has no method %s", svc.client, f.Name)
				mt := m.Type
				require.True(t, mt.NumIn() >= 2 && mt.In(1) == reflect.TypeFor[context.Context](),
					"%s.%s: the first argument must be a context.Context", svc.client, f.Name)
				require.True(t, mt.NumOut() == 2 && mt.Out(1) == reflect.TypeFor[error](),
					"%s.%s must return (result, error)", svc.client, f.Name)

				callTheMock(t, svc.iface, f, m)

				assert.Contains(t, readme, "| "+string(svc.iface)+" | "+f.Name+" | "+f.Mode.String()+" |",
					"README.md: no supported-functions row (go generate ./wsdl/...)")
			})
		}
	}
	for _, f := range rps.Functions() {
		assert.True(t, declared[string(f.Interface)+" "+f.Name], "rps.Functions has %s %s, which no WSDL declares", f.Interface, f.Name)
	}
}

func TestEveryWSDLNotificationIsComplete(t *testing.T) {
	readme := readmeRows(t)
	declared := map[string]bool{}
	handlers := reflect.TypeFor[esimgw.Notifications]()
	for _, svc := range services {
		_, notifications := operatorSide(t, svc.operator)
		require.NotEmpty(t, notifications, svc.operator)
		for el, op := range notifications {
			declared[el] = true
			t.Run(el, func(t *testing.T) {
				n, ok := rps.NotificationByElement(el)
				require.True(t, ok, "rps.Notifications has no row for %s (go generate ./wsdl/...)", el)
				assert.Equal(t, svc.iface, n.Interface)
				assert.Equal(t, op.inputAction, n.Action, "notification Action")
				e, ok := n.NewElement()
				require.True(t, ok, "wsdl/rps: no codec for %s (go generate ./wsdl/...)", el)
				_, profile := e.(rps.ProfileNotification)
				_, smsr := e.(rps.SMSRChangeNotification)
				assert.True(t, profile || smsr, "wsdl/rps: %s implements neither ProfileNotification nor SMSRChangeNotification: its fields lack the shape wsdl/internal/tablegen looks for", el)
				kind := strings.TrimSuffix(strings.TrimPrefix(n.Name, "Handle"), "Notification")
				_, ok = handlers.FieldByName(kind)
				assert.True(t, ok, "esimgw.Notifications has no field %s for %s", kind, el)
				assert.Contains(t, readme, "| "+string(n.Interface)+" | "+n.Name+" | inbound |",
					"README.md: no supported-functions row (go generate ./wsdl/...)")
			})
		}
	}
	for _, n := range rps.Notifications() {
		assert.True(t, declared[n.Element], "rps.Notifications has %s, which no WSDL declares", n.Element)
	}
}

// callTheMock calls method m of a client for iface on a fresh mock gateway, with arguments made from their
// types, waits for an asynchronous result, and asserts that the mock executed the function: the request
// reached it as that function, it was not refused, and the result is not the mock's "not implemented".
func callTheMock(t *testing.T, iface rps.Interface, f rps.Function, m reflect.Method) {
	t.Helper()
	gw := gatewaytest.Start(t)
	op := gatewaytest.NewOperator(t, gw)
	var client reflect.Value
	switch iface {
	case rps.ES2:
		c, err := es2.NewClient(gw.ES2URL, gw.SMSRID, op.Options...)
		require.NoError(t, err)
		client = reflect.ValueOf(c)
	case rps.ES4:
		c, err := es4.NewClient(gw.ES4URL, op.Options...)
		require.NoError(t, err)
		client = reflect.ValueOf(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	args := []reflect.Value{client, reflect.ValueOf(ctx)}
	strs := 0
	for i := 2; i < m.Type.NumIn(); i++ {
		if m.Type.IsVariadic() && i == m.Type.NumIn()-1 {
			break // call options: none
		}
		args = append(args, argFor(t, m.Type.In(i), &strs, f))
	}
	out := m.Func.Call(args)
	err, _ := out[1].Interface().(error)
	if err == nil {
		// Async: the result is an operation; wait for the callback.
		if wait := out[0].MethodByName("Wait"); wait.IsValid() {
			res := wait.Call([]reflect.Value{reflect.ValueOf(ctx)})
			err, _ = res[1].Interface().(error)
		}
	}
	var fe *esimgw.FunctionError
	if err != nil && !errors.As(err, &fe) {
		t.Fatalf("%s %s against the mock: %v (not a function result: fix the test's arguments or the client)", iface, f.Name, err)
	}
	if fe != nil {
		assert.False(t, fe.Subject == esimgw.SubjectFunction && strings.Contains(fe.Message, "not implemented"),
			"gatewaytest has no behaviour for %s %s (behaviour.go): %v", iface, f.Name, fe)
	}
	var seen bool
	for _, r := range gw.Requests() {
		if r.Interface == iface && r.Function == f.Name {
			seen = true
			assert.Nil(t, r.Fault, "the mock refused %s %s", iface, f.Name)
		}
	}
	assert.True(t, seen, "the mock recorded no %s %s request", iface, f.Name)
}

// argFor makes an argument of type at for a client method. Strings: the first is the EID, the others the
// seeded disabled ICCID, which is also a valid OID, so SM-SR ID arguments pass validation and the mock
// answers for itself. A new argument type needs a case here.
func argFor(t *testing.T, at reflect.Type, strs *int, f rps.Function) reflect.Value {
	t.Helper()
	switch at {
	case reflect.TypeFor[string]():
		*strs++
		if *strs == 1 {
			return reflect.ValueOf(gatewaytest.DefaultEID)
		}
		return reflect.ValueOf(gatewaytest.DefaultDisabledICCID)
	case reflect.TypeFor[[]string]():
		return reflect.ValueOf([]string(nil))
	case reflect.TypeFor[rps.POL2Type](), reflect.TypeFor[*rps.POL2Type]():
		return reflect.Zero(at)
	case reflect.TypeFor[rps.SubscriptionAddressType]():
		return reflect.ValueOf(rps.SubscriptionAddressType{Msisdn: "31612345678"})
	case reflect.TypeFor[es2.DownloadRequest]():
		return reflect.ValueOf(es2.DownloadRequest{Eid: gatewaytest.DefaultEID, Iccid: gatewaytest.CatalogICCID})
	}
	t.Fatalf("%s %s: no test argument for a parameter of type %v: add one to argFor", f.Interface, f.Name, at)
	return reflect.Value{}
}
