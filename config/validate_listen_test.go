package config

import (
	"io/fs"
	"strings"
	"testing"
)

// listenTunnel is a client tunnel on listen, with more lines inside.
func listenTunnel(mode, listen, lines string) string {
	return `tunnel "a" {
  mode   = "` + mode + `"
  listen = "` + listen + `"
  target = "db:1"
  tls { insecure_skip_verify = true }
` + lines + "}\n"
}

// A client tunnel lends this node's identity to whoever connects: beyond
// loopback it must say unsafe_listen = true.
func TestClientListenMustBeLoopback(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "127.1.2.3:80", "[::1]:80", "localhost:80", "LocalHost:80",
		"[::ffff:127.0.0.1]:80", "unix:/run/a.sock"} {
		if _, err := Parse([]byte(listenTunnel("client", listen, "")), "ok.hcl"); err != nil {
			t.Errorf("listen %s refused: %v", listen, err)
		}
	}
	for _, listen := range []string{"0.0.0.0:80", "[::]:80", ":80", "10.0.0.1:80", "[2001:db8::1]:80", "db.internal:80"} {
		_, err := Parse([]byte(listenTunnel("client", listen, "")), "bad.hcl")
		want := `bad.hcl:3:3: tunnel "a": listen: "` + listen + `" is not a loopback address: a client tunnel lends this node's identity`
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "or set unsafe_listen = true") {
			t.Errorf("listen %s: got %v, want %s...", listen, err, want)
		}
		if _, err := Parse([]byte(listenTunnel("client", listen, "  unsafe_listen = true\n")), "ok.hcl"); err != nil {
			t.Errorf("listen %s with unsafe_listen refused: %v", listen, err)
		}
	}
}

func TestUnsafeListenOnlyClient(t *testing.T) {
	src := `tunnel "a" {
  mode   = "server"
  listen = "0.0.0.0:443"
  target = "127.0.0.1:80"
  unsafe_listen = true
  tls {
    self_signed = true
    client_auth = "none"
  }
}
`
	_, err := Parse([]byte(src), "bad.hcl")
	want := `bad.hcl:5:3: tunnel "a": unsafe_listen: only meaningful in client mode`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s...", err, want)
	}
}

func TestListenMode(t *testing.T) {
	c, err := Parse([]byte(listenTunnel("client", "unix:/run/a.sock", "")), "ok.hcl")
	if err != nil || c.Tunnels[0].ListenMode != 0o660 {
		t.Fatalf("default listen_mode = %v (%v), want 0660", c.Tunnels[0].ListenMode, err)
	}
	// A number works too (HCL turns it into a string): 0660 reads as "660".
	for text, want := range map[string]fs.FileMode{`"0600"`: 0o600, `"660"`: 0o660, `"0777"`: 0o777, `"0200"`: 0o200, `0660`: 0o660} {
		c, err := Parse([]byte(listenTunnel("client", "unix:/run/a.sock", "  listen_mode = "+text+"\n")), "ok.hcl")
		if err != nil || c.Tunnels[0].ListenMode != want {
			t.Errorf("listen_mode %q = %v (%v), want %v", text, c.Tunnels[0].ListenMode, err, want)
		}
	}
	for text, msg := range map[string]string{
		`"0668"`:  `listen_mode: invalid mode "0668": want permission bits in octal, such as "0660"`,
		`"01777"`: `listen_mode: invalid mode "01777"`,
		`"rw"`:    `listen_mode: invalid mode "rw"`,
		`"0460"`:  `listen_mode: mode "0460" would not let even the owner connect`,
	} {
		_, err := Parse([]byte(listenTunnel("client", "unix:/run/a.sock", "  listen_mode = "+text+"\n")), "bad.hcl")
		if err == nil || !strings.Contains(err.Error(), `bad.hcl:6:3: tunnel "a": `+msg) {
			t.Errorf("listen_mode = %s: got %v, want %s", text, err, msg)
		}
	}
	_, err = Parse([]byte(listenTunnel("client", "127.0.0.1:80", "  listen_mode = \"0600\"\n")), "bad.hcl")
	want := `bad.hcl:6:3: tunnel "a": listen_mode: only for a unix:/path listen address; "127.0.0.1:80" is host:port`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("listen_mode with host:port: got %v, want %s...", err, want)
	}
}

func TestListenFlags(t *testing.T) {
	base := []string{"--target", "db:1", "--insecure-skip-verify"}
	_, err := fromFlags(t, ModeClient, append(base, "--listen", "0.0.0.0:80")...)
	if err == nil || !strings.HasPrefix(err.Error(), `flag --listen: "0.0.0.0:80" is not a loopback address`) ||
		!strings.Contains(err.Error(), "or set --unsafe-listen") {
		t.Errorf("client --listen 0.0.0.0:80: got %v", err)
	}
	c, err := fromFlags(t, ModeClient, append(base, "--listen", "0.0.0.0:80", "--unsafe-listen")...)
	if err != nil || !c.Tunnels[0].UnsafeListen {
		t.Errorf("--unsafe-listen: %v", err)
	}
	_, err = fromFlags(t, ModeServer, "--listen", "0.0.0.0:80", "--target", "127.0.0.1:1", "--self-signed",
		"--client-auth", "none", "--unsafe-listen")
	if err == nil || !strings.HasPrefix(err.Error(), "flag --unsafe-listen: only meaningful in client mode") {
		t.Errorf("server --unsafe-listen: got %v", err)
	}
	c, err = fromFlags(t, ModeClient, append(base, "--listen", "unix:/run/a.sock", "--listen-mode", "0600")...)
	if err != nil || c.Tunnels[0].ListenMode != 0o600 {
		t.Errorf("--listen-mode 0600: %v", err)
	}
	for args, want := range map[string]string{
		"unix:/run/a.sock 9": `flag --listen-mode: invalid mode "9"`,
		"127.0.0.1:80 0600":  `flag --listen-mode: only for a unix:/path listen address`,
	} {
		listen, mode, _ := strings.Cut(args, " ")
		_, err := fromFlags(t, ModeClient, append(base, "--listen", listen, "--listen-mode", mode)...)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("--listen %s --listen-mode %s: got %v, want %s", listen, mode, err, want)
		}
	}
}
