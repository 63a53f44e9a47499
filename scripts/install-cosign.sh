#!/usr/bin/env bash
# Build sigstore's cosign CLI, unpatched, from the Go module proxy at the version pinned here, into
# .tmp/real/tools/cosign-<version>/cosign, for test/real/cosign.test.ts (`cosign verify --key` on a
# site harvgen published). `go install pkg@version` checks every module against go.sum and the Go
# checksum database. Needs Go 1.25 or later (the machine's own: GOTOOLCHAIN=local). Idempotent: a
# binary already built for this version is kept. About 3 minutes on two cores, once.
set -euo pipefail

version=v2.6.5
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${HARVGEN_TOOLS_DIR:-$repo_root/.tmp/real/tools}/cosign-$version
if [[ -x $dir/cosign ]]; then
  echo "install-cosign: cosign $version already in $dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-cosign: go is missing (Go 1.25 or later builds cosign $version)" >&2
  exit 1
fi
mkdir -p "$dir"
GOBIN=$dir GOTOOLCHAIN=local GOFLAGS=-mod=mod go install "github.com/sigstore/cosign/v2/cmd/cosign@$version"
echo "install-cosign: cosign $version -> $dir/cosign"
