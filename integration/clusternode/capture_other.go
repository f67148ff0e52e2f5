//go:build !linux

package main

import (
	"errors"
	"os"
	"time"
)

func record(string, *os.File, time.Time) error {
	return errors.New("capture needs Linux (AF_PACKET)")
}
