package pki

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// Clock skew between hosts is real; certificates start a little in the past
// so a peer whose clock is behind does not reject a fresh one.
const backdate = 5 * time.Minute

// randomSerial is 128 random bits, as CA/B baseline asks (at least 64).
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return n, nil
}
