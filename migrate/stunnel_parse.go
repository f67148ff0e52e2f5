package migrate

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// option is one `key = value` line of a stunnel file.
type option struct {
	Key   string // as written
	Value string
	File  string
	Line  int
}

// name is the key as stunnel compares it: case-insensitively.
func (o option) name() string { return strings.ToLower(o.Key) }

func (o option) where() string { return fmt.Sprintf("%s:%d", o.File, o.Line) }

// section is the global part or one [service] of a stunnel configuration.
type section struct {
	Name    string // "" for the global section
	File    string
	Line    int
	Options []option
}

// maxIncludeDepth bounds include chains (and include loops).
const maxIncludeDepth = 8

// parseStunnel reads a stunnel configuration with its includes: the
// global section first, then the services in file order.
func parseStunnel(path string) ([]*section, error) {
	p := &stunnelParser{secs: []*section{{File: path, Line: 1}}}
	if err := p.file(path, 0); err != nil {
		return nil, err
	}
	return p.secs, nil
}

type stunnelParser struct{ secs []*section }

func (p *stunnelParser) file(path string, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: includes nested deeper than %d (a loop?)", path, maxIncludeDepth)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read stunnel configuration: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if err := p.line(path, n, sc.Text(), depth); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func (p *stunnelParser) line(path string, n int, text string, depth int) error {
	s := strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
	switch {
	case s == "" || s[0] == ';' || s[0] == '#':
		return nil
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fmt.Errorf("%s:%d: section name without ']'", path, n)
		}
		p.secs = append(p.secs, &section{Name: strings.TrimSpace(s[1:end]), File: path, Line: n})
		return nil
	}
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%s:%d: want `option = value`, got %q", path, n, s)
	}
	o := option{Key: strings.TrimSpace(key), Value: strings.TrimSpace(value), File: path, Line: n}
	if o.name() == "include" {
		return p.include(path, o, depth)
	}
	cur := p.secs[len(p.secs)-1]
	cur.Options = append(cur.Options, o)
	return nil
}

// include reads a file, or every file of a directory in name order, as
// stunnel does; a relative path is taken from the including file's
// directory.
func (p *stunnelParser) include(from string, o option, depth int) error {
	target := o.Value
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(from), target)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("%s: include: %w", o.where(), err)
	}
	if !fi.IsDir() {
		return p.file(target, depth+1)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return fmt.Errorf("%s: include: %w", o.where(), err)
	}
	names := []string{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if err := p.file(filepath.Join(target, name), depth+1); err != nil {
			return err
		}
	}
	return nil
}
