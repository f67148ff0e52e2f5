package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// PBES2 (RFC 8018) is what `openssl pkcs8 -topk8 -v2 aes-256-cbc`, `openssl
// genpkey -aes256` and current keytool write for "ENCRYPTED PRIVATE KEY".
// The standard library has every primitive (PBKDF2, AES, CBC) but not the
// ASN.1 around them; this file is that wrapper, so no third-party module
// handles key bytes.

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}

	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}

	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// errWrongPassphrase is a decryption that failed its padding or gave no
// key: with CBC the two cannot be told apart from a wrong password.
var errWrongPassphrase = errors.New("wrong key_passphrase: the key does not decrypt with it")

// errNotEncryptedPKCS8 is DER that is no EncryptedPrivateKeyInfo at all.
var errNotEncryptedPKCS8 = errors.New("not an encrypted PKCS#8 key")

// maxPBKDF2Iterations bounds the work a hostile file can ask for.
const maxPBKDF2Iterations = 10_000_000

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 returns the PKCS#8 PrivateKeyInfo inside an
// EncryptedPrivateKeyInfo (DER) encrypted with PBES2.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errNotEncryptedPKCS8
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted with %v, not PBES2: re-encrypt it with "+
			"openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-new.pem", info.Algo.Algorithm)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("bad PBES2 parameters: %w", err)
	}
	block, iv, err := pbes2Cipher(p, password)
	if err != nil {
		return nil, err
	}
	if len(info.Data) == 0 || len(info.Data)%block.BlockSize() != 0 || len(iv) != block.BlockSize() {
		return nil, errors.New("bad PBES2 ciphertext or IV length")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	return unpad(out, block.BlockSize())
}

// pbes2Cipher derives the key with PBKDF2 and returns the block cipher
// and IV of the encryption scheme.
func pbes2Cipher(p pbes2Params, password []byte) (cipher.Block, []byte, error) {
	if p.KDF.Algorithm.Equal(oidScrypt) {
		return nil, nil, errors.New("scrypt-encrypted keys are not supported: re-encrypt with " +
			"openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-new.pem")
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("unsupported key derivation %v: want PBKDF2", p.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, nil, fmt.Errorf("bad PBKDF2 parameters: %w", err)
	}
	if kp.Iterations < 1 || kp.Iterations > maxPBKDF2Iterations {
		return nil, nil, fmt.Errorf("PBKDF2 iteration count %d out of range", kp.Iterations)
	}
	prf, err := prfHash(kp.PRF.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	newBlock, keyLen, err := schemeCipher(p.Scheme.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil {
		return nil, nil, fmt.Errorf("bad cipher IV: %w", err)
	}
	key, err := pbkdf2.Key(prf, string(password), kp.Salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("PBKDF2: %w", err)
	}
	block, err := newBlock(key)
	return block, iv, err
}

func prfHash(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACSHA1): // the default of RFC 8018
		return sha1.New, nil
	case oid.Equal(oidHMACSHA224):
		return sha256.New224, nil
	case oid.Equal(oidHMACSHA256):
		return sha256.New, nil
	case oid.Equal(oidHMACSHA384):
		return sha512.New384, nil
	case oid.Equal(oidHMACSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unsupported PBKDF2 PRF %v", oid)
}

func schemeCipher(oid asn1.ObjectIdentifier) (func([]byte) (cipher.Block, error), int, error) {
	switch {
	case oid.Equal(oidAES128CBC):
		return aes.NewCipher, 16, nil
	case oid.Equal(oidAES192CBC):
		return aes.NewCipher, 24, nil
	case oid.Equal(oidAES256CBC):
		return aes.NewCipher, 32, nil
	case oid.Equal(oidDESEDE3):
		return des.NewTripleDESCipher, 24, nil
	}
	return nil, 0, fmt.Errorf("unsupported key cipher %v: want AES-CBC (openssl pkcs8 -topk8 -v2 aes-256-cbc)", oid)
}

// unpad strips PKCS#7 padding; bad padding is the usual sign of a wrong
// password.
func unpad(b []byte, size int) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > size || n > len(b) {
		return nil, errWrongPassphrase
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, errWrongPassphrase
		}
	}
	return b[:len(b)-n], nil
}
