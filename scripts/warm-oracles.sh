#!/bin/sh
# Download and compile the test oracles of test/oracle/ (Go programs on other projects' code, which
# the real-program tests build with test/real/helpers/go.ts) into the Go caches the tests use, so
# that a test's own build is a cache hit. .ci/run runs it in the background while the Debian
# packages install; a contributor never needs to. Every go.mod beside each oracle (upgrade-guard
# keeps one per pin) is built. Exits non-zero when one fails to build.
set -eu
cd "$(dirname "$0")/.."
export GOMODCACHE="$PWD/.tmp/real/gomod" GOCACHE="$PWD/.tmp/real/gocache" GOTOOLCHAIN=local GOFLAGS=-mod=readonly
rc=0
for dir in test/oracle/*/; do
  for mod in "$dir"go.mod "$dir"go.*.mod; do
    [ -f "$mod" ] || continue
    if ! (cd "$dir" && go build -modfile="$(basename "$mod")" -o /dev/null .); then
      echo "warm-oracles: building $mod failed" >&2
      rc=1
    fi
  done
done
exit "$rc"
