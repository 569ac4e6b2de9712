package esimgw_test

import (
	"errors"
	"fmt"

	"github.com/esimgw/esimgw"
)

func ExampleValidateEID() {
	fmt.Println(esimgw.ValidateEID("89049032123451234512345678901235"))
	err := esimgw.ValidateEID("89049032123451234512345678901234")
	fmt.Println(err)

	var ve *esimgw.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "|", ve.Rule)
	}
	// Output:
	// <nil>
	// esimgw: invalid Eid "89049032123451234512345678901234": check digits do not verify (mod 97)
	// Eid | check digits do not verify (mod 97)
}

func ExampleValidateICCID() {
	fmt.Println(esimgw.ValidateICCID("89310410106543789305"))
	fmt.Println(esimgw.ValidateICCID("8931041010654378930F"))
	fmt.Println(esimgw.ValidateICCID(esimgw.ICCIDWithLuhn("893104101065437893") + "F"))
	// Output:
	// <nil>
	// esimgw: invalid Iccid "8931041010654378930F": Luhn check digit does not verify
	// <nil>
}

func ExampleEIDWithCheckDigits() {
	eid, err := esimgw.EIDWithCheckDigits("890490321234512345123456789012")
	fmt.Println(eid, err)
	// Output:
	// 89049032123451234512345678901235 <nil>
}

func ExampleValidateOID() {
	fmt.Println(esimgw.ValidateOID("Smsr-id", "1.3.6.1.4.1.54008"))
	fmt.Println(esimgw.ValidateOID("Smsr-id", "1.3..6"))
	// Output:
	// <nil>
	// esimgw: invalid Smsr-id "1.3..6": must be dot-separated decimal arcs such as 1.3.6.1.4.1.54008 (empty arc at position 5)
}
