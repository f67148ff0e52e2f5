package main

import (
	"errors"
	"flag"
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
	if len(args) == 0 {
		fmt.Fprint(stderr, importUsage)
		return errUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, importUsage)
		return flag.ErrHelp
	}
	var (
		res migrate.Result
		err error
	)
	switch tool, rest := args[0], args[1:]; tool {
	case "stunnel":
		fs := newFlagSet("import stunnel", "FILE\n\nstunnel.conf (with its includes) -> HCL on stdout; what is not carried on stderr.")
		if err := parseFlags(fs, rest, 1, stdout, stderr); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageLine("stunnel: which stunnel.conf? passtunnel import stunnel FILE")
		}
		res, err = migrate.ImportStunnel(fs.Arg(0))
	case "ghostunnel":
		if len(rest) > 0 && isHelp(rest[0]) {
			fmt.Fprint(stdout, importUsage)
			return flag.ErrHelp
		}
		if len(rest) > 0 && rest[0] == "--" {
			rest = rest[1:]
		}
		res, err = migrate.ImportGhostunnel(rest)
	default:
		return usageLine(fmt.Sprintf("unknown tool %q (passtunnel import -h lists them)", tool))
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
