tunnel "plain" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls { insecure_skip_verify = true }
}
