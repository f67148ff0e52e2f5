package main

import (
	"fmt"
	"io"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func cmdVersion(stdout io.Writer) { fmt.Fprintln(stdout, "passtunnel", version) }
