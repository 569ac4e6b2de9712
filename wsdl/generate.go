package wsdl

// The pipeline, run from this directory by `go generate ./wsdl/...`:
//
//  1. gowsdl v0.5.0 (pinned in go.mod as a tool) turns the types-only rps.wsdl, which includes the XSDs in
//     xsd/, into rps/rps.go.
//  2. internal/postprocess rewrites rps/rps.go in place, fixing what gowsdl gets wrong (see its package
//     comment); it reads the XSDs again for what gowsdl ignores (minOccurs, maxOccurs, choices).
//  3. internal/tablegen reads the four service WSDLs (operations, Actions, and each operation's esimgw
//     annotation: KPN support, section) and the post-processed rps/rps.go, and writes every per-function
//     table: rps.Functions and rps.Notifications (rps/functions_gen.go), the typed accessors
//     (rps/access_gen.go), and the mock gateway's Fn* names and dispatch table
//     (../gatewaytest/dispatch_gen.go), which calls one hand-written behaviour per function.
//  4. internal/codecgen reads the post-processed rps/rps.go and writes rps/codec_gen.go, the reflection-free
//     AppendXML/DecodeXML methods and NewElement.
//  5. internal/readmetable writes the README's supported-functions table from rps.Functions and
//     rps.Notifications.
//
// Every step is deterministic: running the pipeline twice leaves the tree unchanged, which CI checks.

//go:generate go tool gowsdl -o rps.go -p rps -d . rps.wsdl
//go:generate go run ./internal/postprocess -in rps/rps.go -out rps/rps.go xsd/euicc.request.ES2.xsd xsd/euicc.request.ES4.xsd
//go:generate go run ./internal/tablegen -types rps/rps.go -rps rps -gatewaytest ../gatewaytest
//go:generate go run ./internal/codecgen -in rps/rps.go -out rps/codec_gen.go
//go:generate go run ./internal/readmetable -readme ../README.md
