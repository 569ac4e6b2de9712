// Package reliability holds the end-to-end reliability tests of esimgw (issue 7): the fault matrix against
// the mock gateway with exact loss and duplication accounting, the callback-server restart, the soak of
// 10k concurrent operations with leak checks, resource limits through the real HTTP path, transport
// security and timeouts of the client side, and a fuzz target over callback and notification bodies.
// It has no code of its own: everything is in its _test.go files.
package reliability
