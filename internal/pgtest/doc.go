// Package pgtest gives each test a PostgreSQL schema of its own, so tests that need a real database run in
// parallel and leave nothing behind.
//
// The server is ESIMGW_TEST_DATABASE_URL, or postgres://postgres@127.0.0.1:5432/test when that is unset
// (what scripts/test.sh finds or starts). A test that asks for a database and cannot get one fails and says
// why: it never skips, so a suite that lost its database cannot pass by testing nothing.
package pgtest
