package config

import "fmt"

// ReadSecret reads a secret named by reference, exactly one of a file path
// or an environment variable, with the same rules as the HCL functions
// file() and env(). It serves commands outside a config file (`pki ca`,
// `pki issue`). Errors name the reference, never the value.
func (l Loader) ReadSecret(file, env string) (Secret, error) {
	switch {
	case file != "" && env != "":
		return Secret{}, fmt.Errorf("give one of a passphrase file and a passphrase variable, not both")
	case file != "":
		v, err := readFile("", file, StakeSecret)
		if err != nil {
			return Secret{}, err
		}
		return NewSecret(v, fmt.Sprintf("file(%q)", file)), nil
	case env != "":
		v, err := l.Env.secret(env)
		if err != nil {
			return Secret{}, err
		}
		return NewSecret(v, fmt.Sprintf("env(%q)", env)), nil
	}
	return Secret{}, fmt.Errorf("no passphrase given: use --passphrase-file FILE or --passphrase-env VARIABLE")
}
