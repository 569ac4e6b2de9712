package cli

import "github.com/esimgw/esimgw/gatewaytest"

// DownloadTarget fills in the embedded mock's eUICC and catalogue profile when none is given, and checks
// that an EID and exactly one of ICCID and ProfileType are, as an ES2 download (and activate) needs.
func DownloadTarget(a *App, eid, iccid, profileType *string) error {
	if a.Embedded() {
		if *eid == "" {
			*eid = gatewaytest.DefaultEID
		}
		if *iccid == "" && *profileType == "" {
			*iccid = gatewaytest.CatalogICCID
		}
	}
	switch {
	case *eid == "":
		return Usagef("-eid is required")
	case *iccid == "" && *profileType == "":
		return Usagef("-iccid or -profile-type is required")
	case *iccid != "" && *profileType != "":
		return Usagef("give -iccid or -profile-type, not both")
	}
	return nil
}
