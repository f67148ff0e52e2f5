package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// evalContext offers env() and file() to expressions, and nothing else: no
// variables, so a config means the same thing wherever it is evaluated.
func evalContext(readFile func(path string) (string, error), env *Environ) *hcl.EvalContext {
	return &hcl.EvalContext{Functions: map[string]function.Function{
		"env":  stringFunc("name", env.get),
		"file": stringFunc("path", readFile),
	}}
}

// fileReader is file() for one config file: paths resolve against the
// config's directory, and every path asked for is recorded (Config.Files),
// because the config depends on those files as much as on its own text and
// a reload must notice when they change.
type fileReader struct {
	dir   string
	paths []string
}

// read is file() in a setting.
func (r *fileReader) read(path string) (string, error) { return r.readFor(path, StakeSetting) }

// secret is file() in a secret field.
func (r *fileReader) secret(path string) (string, error) { return r.readFor(path, StakeSecret) }

func (r *fileReader) readFor(path, stake string) (string, error) {
	if full := resolvePath(r.dir, path); !slices.Contains(r.paths, full) {
		r.paths = append(r.paths, full)
	}
	return readFile(r.dir, path, stake)
}

// resolvePath makes a relative path relative to dir.
func resolvePath(dir, path string) string {
	if !filepath.IsAbs(path) && dir != "" {
		return filepath.Join(dir, path)
	}
	return path
}

func stringFunc(param string, impl func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: param, Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s, err := impl(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(s), nil
		},
	})
}

// readFile reads a file relative to dir (the config file's directory) and
// drops one trailing newline, the one editors and `echo` add. Errors name the
// path, never the content. Whatever it reads decides a secret or a setting
// (stake, for the message), so a file that others could change is refused
// (CheckTrustFile).
func readFile(dir, path, stake string) (string, error) {
	full := resolvePath(dir, path)
	if err := CheckTrustFile(full, stake); err != nil {
		return "", err
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", full, unwrapPath(err))
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s, _ = strings.CutSuffix(t, "\r")
	}
	return s, nil
}

// errSecretSyntax is the only shape a secret may have. Anything richer
// (string functions, operators, nested calls) would be evaluated by HCL,
// whose messages could quote the secret; file(file("p")) would even name
// it as a path.
const errSecretSyntax = `must be a string, env("NAME") or file("PATH")`

// secretExpr evaluates a secret field without ever handing its value to HCL.
// readFile reads the argument of a file() call, readEnv that of env().
func secretExpr(expr hcl.Expression, readFile, readEnv func(string) (string, error)) (Secret, error) {
	if w, ok := expr.(*hclsyntax.TemplateWrapExpr); ok {
		expr = w.Wrapped
	}
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok {
		v, diags := expr.Value(nil)
		if diags.HasErrors() || v.IsNull() || v.Type() != cty.String {
			return Secret{}, errors.New(errSecretSyntax)
		}
		return NewSecret(v.AsString(), "literal"), nil
	}
	if len(call.Args) != 1 || call.ExpandFinal || call.Name != "env" && call.Name != "file" {
		return Secret{}, errors.New(errSecretSyntax)
	}
	arg, diags := call.Args[0].Value(nil)
	if diags.HasErrors() || arg.IsNull() || arg.Type() != cty.String {
		return Secret{}, errors.New(errSecretSyntax)
	}
	name := arg.AsString()
	source := fmt.Sprintf("%s(%q)", call.Name, name)
	var v string
	var err error
	if call.Name == "env" {
		v, err = readEnv(name)
	} else {
		v, err = readFile(name)
	}
	if err != nil {
		return Secret{}, fmt.Errorf("%s: %w", source, err)
	}
	return NewSecret(v, source), nil
}

// unwrapPath drops the *fs.PathError wrapper, whose message repeats the path
// that the caller's own message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
