package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/passtunnel/passtunnel/config"
)

// fileRole says which part a file plays, so one loader error can be worded
// for a command ("key file") and for a tunnel ("tls.key") alike.
type fileRole int

const (
	roleCert fileRole = iota
	roleKey
	roleCA
	rolePKCS12
)

func (r fileRole) noun() string {
	switch r {
	case roleKey:
		return "key file"
	case roleCA:
		return "CA file"
	case rolePKCS12:
		return "PKCS#12 file"
	default:
		return "certificate file"
	}
}

func (r fileRole) field() string {
	switch r {
	case roleKey:
		return "tls.key"
	case roleCA:
		return "tls.ca"
	case rolePKCS12:
		return "tls.pkcs12"
	default:
		return "tls.cert"
	}
}

// fileError ties a failure to the file that caused it. It keeps the role so
// that tunnel errors can point at the HCL field (and its position) instead.
type fileError struct {
	role fileRole
	path string
	err  error
}

func (e *fileError) Error() string {
	if unsafeFile(e.err) {
		return e.err.Error() // it names the file, and what about it is wrong
	}
	return fmt.Sprintf("%s %q: %v", e.role.noun(), e.path, e.err)
}
func (e *fileError) Unwrap() error { return e.err }

func newFileError(role fileRole, path string, err error) error {
	return &fileError{role: role, path: path, err: err}
}

// unsafeFile reports whether err is a refusal of config.CheckTrustFile.
func unsafeFile(err error) bool {
	var u *config.UnsafeFileError
	return errors.As(err, &u)
}

// readFile drops the *fs.PathError wrapper: the path is already in the
// fileError, and "open /x: no such file" would name it twice. A CA bundle
// decides whom a tunnel trusts, so one that others could change is refused
// (config.CheckTrustFile), at the first load and at every reload alike.
func readFile(role fileRole, path string) ([]byte, error) {
	if role == roleCA {
		if err := config.CheckTrustFile(path, config.StakeTrust); err != nil {
			return nil, newFileError(role, path, err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, newFileError(role, path, err)
	}
	return data, nil
}

// tunnelPrefix is "file:line:col: tunnel "name"" for the given field.
func tunnelPrefix(t *config.Tunnel, field string) string {
	where := t.Where(field)
	if where == "" {
		return fmt.Sprintf("tunnel %q", t.Name)
	}
	return fmt.Sprintf("%s: tunnel %q", where, t.Name)
}

// fieldError reports a problem with one HCL field of a tunnel.
func fieldError(t *config.Tunnel, field string, err error) error {
	return fmt.Errorf("%s: %s: %w", tunnelPrefix(t, field), field, err)
}

// tunnelFileError rewords a loader error for a tunnel: the field and its
// position replace the generic "certificate file".
func tunnelFileError(t *config.Tunnel, err error) error {
	var fe *fileError
	if !errors.As(err, &fe) {
		return fmt.Errorf("%s: %w", tunnelPrefix(t, "tls"), err)
	}
	field := fe.role.field()
	if unsafeFile(fe.err) {
		return fmt.Errorf("%s: %s: %w", tunnelPrefix(t, field), field, fe.err)
	}
	return fmt.Errorf("%s: %s %q: %w", tunnelPrefix(t, field), field, fe.path, fe.err)
}
