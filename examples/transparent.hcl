# One node of a cluster whose daemons (an actor system, a replica set) find
# each other at run time on port 2552 and speak cleartext TCP. Every node
# runs this file. Its own daemon listens on 2552 behind a server tunnel on
# 12552; the daemon's outbound connections to 2552 of another node are
# redirected by the rules of `passtunnel rules -config FILE -apply` to the
# transparent client tunnel, which carries each one with TLS to the same
# address on 12552. The daemons keep their addresses and their code.
# See docs/behaviour.md#transparent-mode.

log_format = "json"

# Peers reach this node's daemon here; the rules drop cleartext to 2552
# from other hosts. The daemon binds 0.0.0.0:2552 (if it binds the node's
# address instead, make that the target).
tunnel "daemon-in" {
  mode       = "server"
  listen     = "0.0.0.0:12552"
  target     = "127.0.0.1:2552"
  passphrase = env("PASSTUNNEL_PASSPHRASE")
  cluster    = "actors-prod"
}

# The daemon's connections to other nodes, redirected here by the rules.
tunnel "daemon-out" {
  mode         = "client"
  listen       = "127.0.0.1:15001"
  transparent  = "redirect"
  port_map     = { "2552" = 12552 }
  destinations = ["10.0.0.0/8"]
  passphrase   = env("PASSTUNNEL_PASSPHRASE")
  cluster      = "actors-prod"
}
