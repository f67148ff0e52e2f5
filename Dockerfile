# Build: a static binary (no cgo), reproducible paths.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/passtunnel .

# Run: distroless, no shell, non-root (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/passtunnel /usr/local/bin/passtunnel
ENV PASSTUNNEL_CONFIG=/etc/passtunnel/passtunnel.hcl
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/passtunnel"]
CMD ["run"]
