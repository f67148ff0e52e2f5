package config

// parse is Loader{}.parse: a config from src alone, no environment.
func parse(src []byte, filename string) (*Config, Errors) { return Loader{}.parse(src, filename) }
