package es4

import (
	"strconv"
	"strings"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// validateICCIDs checks the ICCIDs AuditEIS is limited to.
func validateICCIDs(iccids []string) error {
	for _, iccid := range iccids {
		if err := esimgw.ValidateICCID(iccid); err != nil {
			return err
		}
	}
	return nil
}

// validatePOL2 checks every rule against the POL2RuleType enumerations, so that a typo is refused here
// rather than by the SM-SR's schema validation (or, worse, taken as some other rule).
func validatePOL2(p rps.POL2Type) error {
	for i, r := range p.Rule {
		field := "pol2/Rule[" + strconv.Itoa(i+1) + "]/"
		switch {
		case r.Subject != rps.POL2SubjectTypePROFILE:
			return &esimgw.ValidationError{Field: field + "Subject", Value: string(r.Subject), Rule: "must be PROFILE"}
		case r.Action != rps.POL2ActionTypeENABLE && r.Action != rps.POL2ActionTypeDISABLE && r.Action != rps.POL2ActionTypeDELETE:
			return &esimgw.ValidationError{Field: field + "Action", Value: string(r.Action), Rule: "must be ENABLE, DISABLE or DELETE"}
		case r.Qualification != rps.POL2QualificationTypeNotAllowed && r.Qualification != rps.POL2QualificationTypeAutoDelete:
			return &esimgw.ValidationError{Field: field + "Qualification", Value: string(r.Qualification), Rule: "must be Not-Allowed or Auto-Delete"}
		}
	}
	return nil
}

// validateSubscriptionAddress checks SubscriptionAddressType: Imsi \d{0,15}, Msisdn \d{3,15}. Both are
// optional in the schema, but an update that sets neither changes nothing and is refused as a mistake.
func validateSubscriptionAddress(a rps.SubscriptionAddressType) error {
	if a.Imsi == "" && a.Msisdn == "" {
		return &esimgw.ValidationError{Field: "newSubscriptionAddress", Rule: "give an Imsi, an Msisdn or both"}
	}
	if len(a.Imsi) > 15 || strings.Trim(a.Imsi, decimal) != "" {
		return &esimgw.ValidationError{Field: "Imsi", Value: a.Imsi, Rule: "must be at most 15 decimal digits"}
	}
	if a.Msisdn != "" && (len(a.Msisdn) < 3 || len(a.Msisdn) > 15 || strings.Trim(a.Msisdn, decimal) != "") {
		return &esimgw.ValidationError{Field: "Msisdn", Value: a.Msisdn, Rule: "must be 3 to 15 decimal digits"}
	}
	return nil
}

const decimal = "0123456789"
