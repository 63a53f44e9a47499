#!/usr/bin/env bash
# Fetch cloud-init's own code for the NoCloud seed test (test/real/cloud-init.test.ts): Debian's
# cloud-init packages, downloaded with apt's ordinary client and unpacked with dpkg-deb (never
# installed: no postinst, no systemd units), into .tmp/real/cloud-init/<suite>/:
#   bookworm  Debian 12's cloud-init (22.4.2, before NoCloud's 23.2 rework)
#   trixie    Debian 13's (25.1.x)
#   sid       Debian unstable's, the newest upstream release packaged
# trixie and sid come through a private apt state under .tmp/real/apt-alt (the host's apt
# sources and lists are untouched). Each suite dir gets a VERSION file. Idempotent: a suite
# whose VERSION exists is kept (delete the dir to refetch). Python dependencies are installed
# by .ci/install-real-deps.sh.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${HARVGEN_CLOUD_INIT_DIR:-$repo_root/.tmp/real/cloud-init}
mkdir -p "$dest"

need=()
for suite in bookworm trixie sid; do [[ -s $dest/$suite/VERSION ]] || need+=("$suite"); done
if [[ ${#need[@]} == 0 ]]; then
  echo "fetch-cloud-init: $(cat "$dest"/*/VERSION | tr '\n' ' ')already in $dest"
  exit 0
fi

# shellcheck source=lib/apt.sh
source "$repo_root/scripts/lib/apt.sh"
work_dir cloud-init
alt_apt

for suite in "${need[@]}"; do
  rm -f "$work"/dl/*.deb
  if [[ $suite == bookworm ]]; then
    download cloud-init
  else
    alt_update
    version=$(alt_version cloud-init "$suite")
    if [[ -z $version ]]; then
      echo "fetch-cloud-init: no cloud-init in Debian $suite" >&2
      exit 1
    fi
    APT_CONFIG=$alt/apt.conf download "cloud-init=$version"
  fi
  deb=$(ls "$work"/dl/cloud-init_*.deb)
  rm -rf "$dest/$suite.new"
  dpkg-deb -x "$deb" "$dest/$suite.new"
  dpkg-deb -f "$deb" Version > "$dest/$suite.new/VERSION"
  rm -rf "${dest:?}/$suite"
  mv "$dest/$suite.new" "$dest/$suite"
  echo "fetch-cloud-init: $suite cloud-init $(cat "$dest/$suite/VERSION") -> $dest/$suite"
done
