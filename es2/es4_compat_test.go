package es2_test

import (
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
)

// *es4.Client is an Auditor for Activate.
var _ es2.Auditor = (*es4.Client)(nil)
