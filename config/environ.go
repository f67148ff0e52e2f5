package config

import (
	"flag"
	"fmt"
	"os"
	"sync"
)

// Environ is the environment that env() and the *-env flags read. A
// variable read into a secret field (passphrase, previous_passphrases,
// shared_secret, --passphrase-env, --shared-secret-env, ...) is taken:
// kept here, removed from the process environment, and handed to the
// scrub function, with which main overwrites it where the kernel still
// shows it (/proc/PID/environ). A config reload's env("NAME") then finds
// the value kept. A nil *Environ reads the process environment and takes
// nothing, for tests and tools.
type Environ struct {
	scrub func(name string)
	mu    sync.Mutex
	kept  map[string]string // guarded by mu
}

// NewEnviron makes the process's Environ; scrub (nil: none) is called once
// for each variable taken, after it is removed from os.Environ.
func NewEnviron(scrub func(name string)) *Environ {
	return &Environ{scrub: scrub, kept: map[string]string{}}
}

// lookup is os.LookupEnv, after the values already taken.
func (e *Environ) lookup(name string) (string, bool) {
	if e != nil {
		e.mu.Lock()
		v, ok := e.kept[name]
		e.mu.Unlock()
		if ok {
			return v, true
		}
	}
	return os.LookupEnv(name)
}

// get returns a non-empty variable. Errors name the variable, never a value.
func (e *Environ) get(name string) (string, error) {
	v, ok := e.lookup(name)
	switch {
	case !ok:
		return "", fmt.Errorf("environment variable %s is not set", name)
	case v == "":
		return "", fmt.Errorf("environment variable %s is empty", name)
	}
	return v, nil
}

// secret is get for a secret: the variable is taken.
func (e *Environ) secret(name string) (string, error) {
	v, err := e.get(name)
	if err != nil || e == nil {
		return v, err
	}
	e.mu.Lock()
	_, taken := e.kept[name]
	e.kept[name] = v
	e.mu.Unlock()
	if !taken {
		_ = os.Unsetenv(name) // fails only for a name with '=' or NUL, which get could not have found
		if e.scrub != nil {
			e.scrub(name)
		}
	}
	return v, nil
}

// Loader reads configs with one Environ. Its zero value reads the process
// environment as it is; the package functions Load, Parse, BindFlags and
// ReadSecret are those of the zero Loader.
type Loader struct {
	Env *Environ
}

// Load reads and decodes the config file at path. Every problem found is
// returned at once, as Errors.
func Load(path string) (*Config, error) { return Loader{}.Load(path) }

// Parse decodes src as if read from filename: positions name filename, and
// relative file() paths resolve against its directory.
func Parse(src []byte, filename string) (*Config, error) { return Loader{}.Parse(src, filename) }

// BindFlags registers the flags of `passtunnel server` or `passtunnel
// client`; see Loader.BindFlags.
func BindFlags(fs *flag.FlagSet, mode Mode) func() (*Config, error) {
	return Loader{}.BindFlags(fs, mode)
}

// ReadSecret reads a secret named by reference; see Loader.ReadSecret.
func ReadSecret(file, env string) (Secret, error) { return Loader{}.ReadSecret(file, env) }
