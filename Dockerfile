# Build: a static binary (no cgo), reproducible paths.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/passtunnel .

# Rules: passtunnel with nft, iptables and ip, for the init container that
# applies a transparent pod's rules (docker build --target rules). Not the
# default image: the sidecar needs none of these tools.
FROM debian:bookworm-slim AS rules
RUN apt-get update && apt-get install -y --no-install-recommends nftables iptables iproute2 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/passtunnel /usr/local/bin/passtunnel
ENTRYPOINT ["/usr/local/bin/passtunnel"]
CMD ["rules", "-apply"]

# Run: distroless, no shell, non-root (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/passtunnel /usr/local/bin/passtunnel
ENV PASSTUNNEL_CONFIG=/etc/passtunnel/passtunnel.hcl
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/passtunnel"]
CMD ["run"]
