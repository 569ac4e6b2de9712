package storetest_test

import (
	"testing"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/storetest"
)

func TestTracker(t *testing.T) {
	storetest.Run(t, func(*testing.T) esimgw.Store { return esimgw.NewTracker() })
}
