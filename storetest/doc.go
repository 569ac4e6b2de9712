// Package storetest is the contract every correlate.Store must meet, as a test suite: the in-memory Tracker
// and pgstore run it, and so can any other implementation.
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) correlate.Store { return newEmptyStore(t) })
//	}
package storetest
