package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

const pkiUsage = `usage:
  passtunnel pki ca    (--passphrase-file F | --passphrase-env VAR) [--cluster NAME]
  passtunnel pki issue --name NODE --out DIR (--passphrase-file F | --passphrase-env VAR)
                       [--cluster NAME] [--validity DURATION (at most 9528h, 397 days)]
  passtunnel pki fingerprint FILE
  passtunnel pki passphrase
`

// maxIssueValidity caps `pki issue --validity`: 397 days, the CA/Browser
// Forum's limit, which the clients that check any limit enforce. A longer
// lived certificate outlives a passphrase rotation by as much.
const maxIssueValidity = 397 * 24 * time.Hour

func cmdPKI(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pkiUsage)
		return errUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, pkiUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "ca":
		return cmdPKICA(args[1:], stdout, stderr, loader)
	case "issue":
		return cmdPKIIssue(args[1:], stdout, stderr, loader)
	case "passphrase":
		return cmdPKIPassphrase(args[1:], stdout, stderr)
	case "fingerprint":
		return cmdPKIFingerprint(args[1:], stdout, stderr)
	}
	return usageLine(fmt.Sprintf("unknown command %q (passtunnel pki -h lists them)", args[0]))
}

// cmdPKIFingerprint prints the SHA-256 fingerprint of a PEM certificate,
// as tls.pin takes it.
func cmdPKIFingerprint(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pki fingerprint", "FILE")
	if err := parseFlags(fs, args, 1, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageLine("fingerprint: which certificate? passtunnel pki fingerprint FILE")
	}
	fp, err := pki.FingerprintFile(fs.Arg(0))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, fp)
	return err
}

// clusterFlags are the flags that name a cluster's passphrase by reference:
// the passphrase itself is never a flag value, since argv shows in ps.
type clusterFlags struct {
	file, env, cluster string
	weak               bool
	loader             config.Loader
}

func bindClusterFlags(fs *flag.FlagSet, loader config.Loader) *clusterFlags {
	c := &clusterFlags{loader: loader}
	fs.StringVar(&c.file, "passphrase-file", "", "read the cluster passphrase from `FILE`")
	fs.StringVar(&c.env, "passphrase-env", "", "read the cluster passphrase from environment `VARIABLE`")
	fs.StringVar(&c.cluster, "cluster", pki.DefaultCluster, "cluster `NAME`, the salt of the derivation")
	fs.BoolVar(&c.weak, "allow-weak-passphrase", false, "accept a passphrase below the policy, with a warning")
	return c
}

// derive reads the passphrase, applies the passphrase policy and derives
// the cluster CA.
func (c *clusterFlags) derive(stderr io.Writer) (*pki.ClusterCA, error) {
	secret, err := c.loader.ReadSecret(c.file, c.env)
	if err != nil {
		return nil, err
	}
	if err := pki.CheckPassphraseWith(secret.Reveal(), c.cluster); err != nil {
		if !c.weak {
			return nil, fmt.Errorf("passphrase from %s: %w", secret.Source, err)
		}
		fmt.Fprintf(stderr, "warning: passphrase from %s is weak (%v); accepted because of --allow-weak-passphrase\n",
			secret.Source, err)
	}
	return pki.DeriveClusterCA(secret.Reveal(), c.cluster)
}

// cmdPKICA prints the derived CA: what a program outside the cluster trusts
// to talk to it, and the fingerprint operators compare across hosts.
func cmdPKICA(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := newFlagSet("pki ca", "(--passphrase-file F | --passphrase-env VAR) [--cluster NAME]")
	c := bindClusterFlags(fs, loader)
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	ca, err := c.derive(stderr)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s%s\n", ca.CertPEM(), ca.Fingerprint())
	return err
}

// cmdPKIIssue writes a node certificate, its key and the CA, so that a
// program that speaks TLS itself (openssl, stunnel, a Java client) can join
// the cluster without passtunnel beside it. Every file is written to a
// temporary name and renamed into place, never through a name that is
// already there (a planted symlink is replaced, not followed), in a
// directory nobody else may write in.
func cmdPKIIssue(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := newFlagSet("pki issue", "--name NODE --out DIR (--passphrase-file F | --passphrase-env VAR) [flags]")
	c := bindClusterFlags(fs, loader)
	name := fs.String("name", "", "node `NAME` (a DNS label): the certificate's CN (required)")
	out := fs.String("out", "", "`DIR` to write NAME.crt, NAME.key (0600) and ca.crt into (required); "+
		"nobody but root and this user may write in it")
	validity := fs.Duration("validity", 90*24*time.Hour, "how long the certificate is valid, at most 9528h (397 days)")
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	if *name == "" || *out == "" {
		return usageLine("issue: --name and --out are required (passtunnel pki issue -h shows the flags)")
	}
	switch {
	case *validity <= 0:
		return errors.New("pki issue: --validity must be positive")
	case *validity > maxIssueValidity:
		return fmt.Errorf("pki issue: --validity %s is above the cap of 397 days (9528h): "+
			"give a shorter --validity, and issue a new certificate before this one expires", *validity)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("pki issue: %w", err)
	}
	if err := config.CheckPrivateDir(*out, config.StakeOutput); err != nil {
		return fmt.Errorf("pki issue: --out: %w", err)
	}
	ca, err := c.derive(stderr)
	if err != nil {
		return err
	}
	node, err := ca.IssueNode(*name, *validity)
	if err != nil {
		return fmt.Errorf("pki issue: %w", err)
	}
	certPath, keyPath, err := pki.WriteKeyPair(*out, *name, node)
	if err != nil {
		return fmt.Errorf("pki issue: %w", err)
	}
	caPath := filepath.Join(*out, "ca.crt")
	if err := pki.WriteFileAtomic(caPath, ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("pki issue: %w", err)
	}
	fmt.Fprintf(stdout, "%s  node %q of cluster %q, valid until %s\n%s  private key (mode 0600)\n%s  cluster CA %s\n",
		certPath, *name, c.cluster, node.Leaf.NotAfter.UTC().Format(time.RFC3339), keyPath, caPath, ca.Fingerprint())
	return nil
}

const pkiPassphraseUsage = `usage: passtunnel pki passphrase

Prints a new random passphrase and a random cluster name, for a new cluster:

  passphrase: xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx   (140 bits; keep it in a file or a Secret, never in argv)
  cluster:    c-xxxxxxxxxx

The passphrase is 28 characters of lowercase base32 from the system's
random source; the cluster name salts the derivation and should be unique
to the deployment. Each value is the second field of its line. Nothing is
written or kept.
`

// cmdPKIPassphrase prints what a new cluster needs: a passphrase far above
// the policy, and a cluster name of its own so that no precomputed table
// of guesses made for another deployment applies to it.
func cmdPKIPassphrase(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pki passphrase", "")
	fs.Usage = func() { fmt.Fprint(fs.Output(), pkiPassphraseUsage) }
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	p, err := pki.NewPassphrase()
	if err != nil {
		return fmt.Errorf("pki passphrase: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "passphrase: %s   (%d bits; keep it in a file or a Secret, never in argv)\ncluster:    %s\n",
		p, pki.NewPassphraseBits, pki.NewClusterName())
	return err
}
