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
		return Usagef("%s is required", a.Flag("eid"))
	case *iccid == "" && *profileType == "":
		return Usagef("%s or %s is required", a.Flag("iccid"), a.Flag("profile-type"))
	case *iccid != "" && *profileType != "":
		return Usagef("give %s or %s, not both", a.Flag("iccid"), a.Flag("profile-type"))
	}
	return nil
}
