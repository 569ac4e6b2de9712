package es4

import "github.com/esimgw/esimgw"

// validateICCIDs checks the ICCIDs AuditEIS is limited to.
func validateICCIDs(iccids []string) error {
	for _, iccid := range iccids {
		if err := esimgw.ValidateICCID(iccid); err != nil {
			return err
		}
	}
	return nil
}
