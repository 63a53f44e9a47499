#!/usr/bin/env bash
# Download the modules of the Go oracles that take long to build cold and compile them into Go's
# caches under .tmp/real (the same module and build caches, flags and environment as buildOracle in
# test/real/helpers/go.ts), so that a test building one later only links it. .ci/run starts it in
# the background before the packages install. Needs the machine's Go (GOTOOLCHAIN=local).
#   test/oracle/containers-copy  containers/image's copy.Image (test/real/containers-image.test.ts):
#                                cgo off, OpenPGP in Go (containers_image_openpgp); about 2 minutes
#                                cold on two cores with an empty module cache
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v go >/dev/null 2>&1; then
  echo "warm-oracles: go is missing" >&2
  exit 1
fi
export GOMODCACHE=$repo_root/.tmp/real/gomod GOCACHE=$repo_root/.tmp/real/gocache GOTOOLCHAIN=local GOFLAGS=-mod=readonly
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
(cd "$repo_root/test/oracle/containers-copy" &&
  CGO_ENABLED=0 go build -modfile=go.mod -tags=containers_image_openpgp -o "$out/containers-copy" .)
echo "warm-oracles: containers-copy built in $(($(date +%s) - start)) s"
