package config

import (
	"reflect"
	"strings"
	"testing"
)

// targetTunnel is a tunnel of mode with the target line given and more
// lines inside.
func targetTunnel(mode, target, lines string) string {
	tls := `tls {
    self_signed = true
    client_auth = "none"
  }`
	if mode == "client" {
		tls = "tls { insecure_skip_verify = true }"
	}
	return `tunnel "a" {
  mode   = "` + mode + `"
  listen = "127.0.0.1:7000"
  ` + target + `
  ` + tls + `
` + lines + "}\n"
}

func TestTargetsList(t *testing.T) {
	cases := []struct {
		target  string
		want    []Address
		balance string
	}{
		{`target = "db:1"`, []Address{{NetTCP, "db:1"}}, BalanceFailover},
		{`target = ["10.0.0.1:80", "[::1]:81", "unix:/run/b.sock"]` + "\n  balance = \"round_robin\"",
			[]Address{{NetTCP, "10.0.0.1:80"}, {NetTCP, "[::1]:81"}, {NetUnix, "/run/b.sock"}}, BalanceRoundRobin},
		{`target = ["db:1"]` + "\n  balance = \"random\"", []Address{{NetTCP, "db:1"}}, BalanceRandom},
	}
	for _, tc := range cases {
		c, err := Parse([]byte(targetTunnel("server", tc.target, "")), "ok.hcl")
		if err != nil {
			t.Errorf("%s: %v", tc.target, err)
			continue
		}
		tu := c.Tunnels[0]
		if !reflect.DeepEqual(tu.Targets, tc.want) || tu.Target != tc.want[0] || tu.Balance != tc.balance {
			t.Errorf("%s: targets %v, target %v, balance %q; want %v, %q", tc.target, tu.Targets, tu.Target, tu.Balance, tc.want, tc.balance)
		}
	}
}

func TestTargetsErrors(t *testing.T) {
	cases := []struct{ target, want string }{
		{`target = []`, `bad.hcl:4:3: tunnel "a": target: an empty list: want at least one host:port or unix:/path`},
		{`target = ["a:1", "b"]`, `bad.hcl:4:20: tunnel "a": target: element 2: invalid address "b": want host:port or unix:/path`},
		{`target = ["a:1", 5 ]`, `bad.hcl:4:20: tunnel "a": target: element 2: invalid address "5"`},
		{`target = { a = 1 }`, `bad.hcl:4:3: tunnel "a": target: must be an address ("host:port", "unix:/path") or a list of them`},
		{`target = ["a:1", "A:1"]`, `bad.hcl:4:3: tunnel "a": target: "A:1" is listed twice`},
		{`target = ["a:1", "b:0"]`, `bad.hcl:4:3: tunnel "a": target: invalid address "b:0": port 0 cannot be dialled`},
		{`target = ["a:1", ":2"]`, `bad.hcl:4:3: tunnel "a": target: invalid address ":2": missing host`},
		{`target = ["a:1", "127.0.0.1:7000"]`, `bad.hcl:4:3: tunnel "a": target: "127.0.0.1:7000" is the tunnel's own listen address`},
		{"target = [\"a:1\"]\n  balance = \"least_conn\"",
			`bad.hcl:5:3: tunnel "a": balance: invalid value "least_conn"; want "failover", "round_robin" or "random"`},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(targetTunnel("server", tc.target, "")), "bad.hcl")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s...", tc.target, err, tc.want)
		}
	}
}

// A client tunnel verifies its server against one name: targets on
// several hosts need tls.server_name, unless nothing checks a name.
func TestClientTargetsNeedOneName(t *testing.T) {
	two := `target = ["a.example:1", "b.example:1"]`
	ca := "tls {\n    ca = \"ca.crt\"\n  }"
	_, err := Parse([]byte(strings.Replace(targetTunnel("client", two, ""), "tls { insecure_skip_verify = true }", ca, 1)), "bad.hcl")
	want := `bad.hcl:5:3: tunnel "a": tls.server_name: required with targets on different hosts ("a.example", "b.example")`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s...", err, want)
	}
	for _, ok := range []string{
		strings.Replace(targetTunnel("client", two, ""), "tls { insecure_skip_verify = true }",
			"tls {\n    ca = \"ca.crt\"\n    server_name = \"db.example\"\n  }", 1),
		strings.Replace(targetTunnel("client", `target = ["A.example:1", "a.example:2"]`, ""), "tls { insecure_skip_verify = true }", ca, 1),
		targetTunnel("client", two, ""), // insecure_skip_verify: no name is checked
	} {
		if _, err := Parse([]byte(ok), "ok.hcl"); err != nil {
			t.Errorf("refused: %v\n%s", err, ok)
		}
	}
}

func TestTargetFlags(t *testing.T) {
	c, err := fromFlags(t, ModeClient, "--listen", "127.0.0.1:0", "--target", "a:1, b:2", "--target", "unix:/run/c.sock",
		"--balance", "round_robin", "--insecure-skip-verify")
	if err != nil {
		t.Fatal(err)
	}
	tu := c.Tunnels[0]
	want := []Address{{NetTCP, "a:1"}, {NetTCP, "b:2"}, {NetUnix, "/run/c.sock"}}
	if !reflect.DeepEqual(tu.Targets, want) || tu.Target != want[0] || tu.Balance != BalanceRoundRobin {
		t.Errorf("targets %v, target %v, balance %q", tu.Targets, tu.Target, tu.Balance)
	}
	for args, want := range map[string]string{
		"a:1,b":           `flag --target: invalid address "b": want host:port or unix:/path`,
		"a:1,a:1":         `flag --target: "a:1" is listed twice`,
		"a:1 --balance x": `flag --balance: invalid value "x"`,
	} {
		argv := append([]string{"--listen", "127.0.0.1:0", "--insecure-skip-verify", "--target"}, strings.Fields(args)...)
		if _, err := fromFlags(t, ModeClient, argv...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", args, err, want)
		}
	}
}
