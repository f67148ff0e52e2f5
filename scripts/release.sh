#!/usr/bin/env bash
# Build the release binaries of the checked-out commit, reproducibly.
#
#   scripts/release.sh [GOOS/GOARCH ...]
#
# Default targets: linux/amd64 linux/arm64 darwin/arm64. Writes
# $DIST/passtunnel-$VERSION-$GOOS-$GOARCH and $DIST/SHA256SUMS (DIST
# defaults to dist/, VERSION to `git describe --tags --always`).
#
# The binaries are a function of the commit and the Go toolchain only: the
# source is the commit exported with git archive (uncommitted changes never
# ship), cgo is off (static), paths are trimmed, the build ID is empty, the
# GOAMD64/GOARM64 levels are fixed, and the only time inside is the commit's.
# Run it twice, or on another machine with the same Go, and SHA256SUMS is
# the same.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

targets=("$@")
((${#targets[@]})) || targets=(linux/amd64 linux/arm64 darwin/arm64)
dist=${DIST:-dist}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

rev=$(git rev-parse HEAD)
version=${VERSION:-$(git describe --tags --always --abbrev=12)}
# The commit time is the release's time: SOURCE_DATE_EPOCH for anything
# that wants one, and the time `passtunnel version` shows.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git show -s --format=%ct HEAD)}
revtime=$(TZ=UTC git show -s --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD)

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git archive --format=tar HEAD | tar -x -C "$src"

# Nothing from the caller's Go environment may change the bytes.
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOAMD64=v1 GOARM64=v8.0 GOEXPERIMENT=
ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$rev -X main.commitTime=$revtime"

names=()
for target in "${targets[@]}"; do
  goos=${target%/*} goarch=${target#*/}
  if [ -z "$goos" ] || [ -z "$goarch" ] || [ "$goos" = "$target" ]; then
    echo "release: target $target: want GOOS/GOARCH, e.g. linux/amd64" >&2
    exit 2
  fi
  name=passtunnel-$version-$goos-$goarch
  echo "release: $name"
  (cd "$src" && GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=false \
    -ldflags "$ldflags" -o "$dist/$name" .)
  touch -d "@$SOURCE_DATE_EPOCH" "$dist/$name" 2>/dev/null || true
  names+=("$name")
done

# SHA256SUMS lists this run's binaries, sorted, in sha256sum's format.
sums() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
(cd "$dist" && printf '%s\n' "${names[@]}" | LC_ALL=C sort | while read -r n; do sums "$n"; done) >"$dist/SHA256SUMS.tmp"
mv "$dist/SHA256SUMS.tmp" "$dist/SHA256SUMS"
cat "$dist/SHA256SUMS"
