package pki

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxASN1Depth bounds the nesting pkcs12Work follows; real files nest
// about ten deep.
const maxASN1Depth = 32

// pkcs12Work refuses a PKCS#12 file that asks for more key-derivation
// iterations than maxPBKDF2Iterations anywhere it can be seen before
// decrypting: the MAC, each encrypted container's parameters and each
// shrouded key bag outside one. go-pkcs12 has no bound of its own, and a
// count of 2^31 would hold a reload (or a fuzzer) for hours. The test is on
// shape, not on object identifiers: every iteration count in PKCS#12 and
// PBKDF2 parameters is the INTEGER that follows a salt OCTET STRING in a
// SEQUENCE. A bag shrouded inside an encrypted container is not seen; its
// count was chosen by whoever could encrypt under the password.
func pkcs12Work(der []byte) error {
	return walkIterations(cryptobyte.String(der), 0)
}

func walkIterations(s cryptobyte.String, depth int) error {
	if depth > maxASN1Depth {
		return nil // go-pkcs12 refuses what it cannot parse; this is only a bound on work
	}
	afterSalt := false
	for !s.Empty() {
		var body cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&body, &tag) {
			return nil
		}
		if tag == cbasn1.INTEGER && afterSalt {
			if err := checkIterations(body); err != nil {
				return err
			}
		}
		afterSalt = tag == cbasn1.OCTET_STRING
		if tag&0x20 != 0 || tag == cbasn1.OCTET_STRING { // 0x20: constructed
			// An OCTET STRING may wrap DER (authSafe, a Data content).
			if err := walkIterations(body, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkIterations reads a DER INTEGER's body as an iteration count.
func checkIterations(body cryptobyte.String) error {
	if len(body) == 0 || body[0]&0x80 != 0 {
		return nil // not a count go-pkcs12 would accept either
	}
	if len(body) > 4 {
		return fmt.Errorf("key derivation asks for more than %d iterations", maxPBKDF2Iterations)
	}
	n := 0
	for _, b := range body {
		n = n<<8 | int(b)
	}
	if n > maxPBKDF2Iterations {
		return fmt.Errorf("key derivation asks for %d iterations, more than the %d allowed", n, maxPBKDF2Iterations)
	}
	return nil
}
