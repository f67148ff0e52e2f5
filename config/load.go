package config

import (
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Defaults for settings the user leaves out.
const (
	defaultLogLevel  = "info"
	defaultLogFormat = "text"
	defaultCluster   = "passtunnel"
)

// Load reads and decodes the config file at path. Every problem found is
// returned at once, as Errors. A config file that others could change is
// refused before it is read (CheckTrustFile).
func (l Loader) Load(path string) (*Config, error) {
	if err := CheckTrustFile(path, StakeConfig); err != nil {
		return nil, Errors{{Msg: err.Error(), err: err}} // the message names the file
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{Pos: Pos{File: path}, Msg: "cannot read config: " + unwrapPath(err).Error(), err: err}}
	}
	return l.Parse(src, path)
}

// Parse decodes src as if read from filename: positions name filename, and
// relative file() paths resolve against its directory.
func (l Loader) Parse(src []byte, filename string) (*Config, error) {
	c, errs := l.parse(src, filename)
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return c, nil
}

// parse decodes and validates, returning what it could decode even when
// there are errors (nil only for a syntax error).
func (l Loader) parse(src []byte, filename string) (*Config, Errors) {
	d := &decoder{
		file:   filename,
		files:  fileReader{dir: filepath.Dir(filename)},
		env:    l.Env,
		failed: map[fieldKey]bool{},
	}
	d.ctx = evalContext(d.files.read, d.env)
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		d.diags(diags, "")
		return nil, d.errs
	}
	c := d.config(f.Body)
	c.Files = d.files.paths
	errs := append(d.errs, validate(c, d.failed, false)...)
	errs.redact(d.secrets)
	return c, errs.sorted()
}

func (d *decoder) diags(diags hcl.Diagnostics, tunnel string) {
	for _, diag := range diags {
		if diag.Severity == hcl.DiagError {
			d.errs = append(d.errs, fromDiag(diag, d.file, tunnel))
		}
	}
}

func (d *decoder) config(body hcl.Body) *Config {
	c := &Config{File: d.file, Fields: map[string]Pos{}}
	topFields.defaults(c, "")
	content, diags := body.Content(topSchema)
	d.diags(diags, "")
	decodeFields(&scope{d: d, tunnel: -1, attrs: content.Attributes, fields: c.Fields}, &topFields, c)
	for _, b := range content.Blocks {
		c.Tunnels = append(c.Tunnels, d.tunnel(len(c.Tunnels), b))
	}
	return c
}
