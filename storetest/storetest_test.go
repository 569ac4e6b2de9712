package storetest_test

import (
	"testing"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/storetest"
)

func TestTracker(t *testing.T) {
	storetest.Run(t, func(*testing.T) correlate.Store { return correlate.NewTracker() })
}
