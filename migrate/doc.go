// Package migrate turns a stunnel configuration or a ghostunnel command
// line into passtunnel HCL. What maps is written as HCL; everything else
// becomes a Note saying why it was not carried and what to do instead, so
// that no option is ever dropped silently. It imports config only, for
// the names config accepts (TLS versions, cipher suites, curves).
package migrate
