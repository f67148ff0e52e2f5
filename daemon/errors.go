package daemon

// Located marks an error whose message already says where it comes from
// (file:line:col, or the flag): the CLI prints it as is, so editors and CI
// annotations can jump to it.
type Located struct{ error }

func (l Located) Unwrap() error { return l.error }
