package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/passtunnel/passtunnel/migrate"
)

const importUsage = `Usage:
  passtunnel import stunnel FILE          stunnel.conf (with its includes) -> HCL on stdout
  passtunnel import ghostunnel -- ARGS    a ghostunnel command line -> HCL on stdout

What is not carried over is listed on stderr with the reason and what to do
instead. The exit status is 1 when something that protected the connection
(peer verification, revocation, PSK, access control) was not carried.
`

// errSecurityDropped: the HCL was written, but the import dropped or
// weakened something security depends on; the notes say what.
var errSecurityDropped = errors.New("import: options that protected the connection were not carried (SECURITY lines above); fix the HCL before using it")

// cmdImport converts another tunnel's configuration to HCL.
func cmdImport(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stderr, importUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	var (
		res migrate.Result
		err error
	)
	switch tool, rest := args[0], args[1:]; tool {
	case "stunnel":
		if len(rest) != 1 {
			fmt.Fprint(stderr, importUsage)
			return errUsage
		}
		res, err = migrate.ImportStunnel(rest[0])
	case "ghostunnel":
		if len(rest) > 0 && rest[0] == "--" {
			rest = rest[1:]
		}
		res, err = migrate.ImportGhostunnel(rest)
	default:
		fmt.Fprintf(stderr, "passtunnel import: unknown tool %q\n\n%s", tool, importUsage)
		return errUsage
	}
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.HCL)
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, n)
	}
	if res.SecurityDropped() {
		return errSecurityDropped
	}
	return nil
}
