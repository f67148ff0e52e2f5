# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 .
# The build stage runs on the builder's own platform and cross-compiles for
# each target (no emulation); the later stages are the target's.
#
# Build: a static binary (no cgo), the release script's flags: reproducible.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
# No .git in the context: the version and commit come as build args
# (--build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD)).
ARG VERSION=dev COMMIT=
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/passtunnel .

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
