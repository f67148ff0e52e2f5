package main

import (
	"fmt"
	"io"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "")
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, "passtunnel", version)
	return err
}
