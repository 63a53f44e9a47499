#!/bin/sh
# Download and compile the test oracles of test/oracle/ (Go programs on other projects' code:
# containers/image, Flux, baremetal-operator, Harvester's upgrade guard) into the Go caches the
# tests use (test/real/helpers/go.ts, buildOracle), so that a test's own build only links. .ci/run
# runs it in the background while the Debian packages install; a contributor never needs to.
# Every go.mod beside each oracle (upgrade-guard keeps one per pin) is built, with the oracle's
# build.env when it has one (CGO_ENABLED, more GOFLAGS), as buildOracle reads it. About 4 minutes
# on two cores with empty caches. Exits non-zero when one fails to build. It holds
# .tmp/real/warm-oracles.lock while it runs: a test's buildOracle waits for it (flock -s), so that
# .ci/run need not wait for it before the tests start.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${WARM_ORACLES_LOCKED:-}" ]; then
  mkdir -p .tmp/real
  exec env WARM_ORACLES_LOCKED=1 flock .tmp/real/warm-oracles.lock sh scripts/warm-oracles.sh "$@"
fi
export GOMODCACHE="$PWD/.tmp/real/gomod" GOCACHE="$PWD/.tmp/real/gocache" GOTOOLCHAIN=local
rc=0
for dir in test/oracle/*/; do
  cgo=1
  flags=-mod=readonly
  if [ -f "${dir}build.env" ]; then
    while IFS= read -r line; do
      case $line in
        CGO_ENABLED=*) cgo=${line#CGO_ENABLED=} ;;
        GOFLAGS=*) flags="$flags ${line#GOFLAGS=}" ;;
      esac
    done <"${dir}build.env"
  fi
  for mod in "$dir"go.mod "$dir"go.*.mod; do
    [ -f "$mod" ] || continue
    start=$(date +%s)
    if (cd "$dir" && CGO_ENABLED=$cgo GOFLAGS=$flags go build -modfile="$(basename "$mod")" -o /dev/null .); then
      echo "warm-oracles: $mod built in $(($(date +%s) - start)) s"
    else
      echo "warm-oracles: building $mod failed" >&2
      rc=1
    fi
  done
done
exit "$rc"
