#!/bin/sh
# harvgen: download the Harvester release files that site location_y boots from
# (v1.6.0) and verify them against each release's SHA-512 list. Not run by `harvgen build`.
# Usage: fetch.sh [TARGET_DIR]
#   TARGET_DIR            default: each release's nginx.artifacts_dir (/srv/www/harvester-artifacts/v1.6.0)
#   HARVGEN_RELEASE_BASE  default https://releases.rancher.com/harvester (a mirror: <base>/<version>/<file>)
# Already downloaded files are kept; everything is checked again on every run.
set -eu
base=${HARVGEN_RELEASE_BASE:-https://releases.rancher.com/harvester}

# list VERSION TARGET_DIR SHA512_LIST: the release's SHA-512 list, downloaded again on every run
list() {
  mkdir -p "$2"
  curl -fsSL --retry 3 -o "$2/$3.part" "$base/$1/$3"
  mv "$2/$3.part" "$2/$3"
}

# fetch VERSION TARGET_DIR SHA512_LIST FILE...
fetch() {
  version=$1 target=$2 sums=$3
  shift 3
  list "$version" "$target" "$sums"
  (
    cd "$target"
    for f in "$@"; do
      if [ -s "$f" ]; then
        echo "have $f"
      else
        echo "fetching $f"
        curl -fL --retry 3 -o "$f.part" "$base/$version/$f"
        mv "$f.part" "$f"
      fi
    done
    for f in "$@"; do
      grep -q " \*\{0,1\}$f\$" "$sums" || { echo "$f is not listed in $sums" >&2; rm -f "$sums.verified"; exit 1; }
    done
    sha512sum --check --ignore-missing "$sums" || { rm -f "$sums.verified"; exit 1; }
    # The size of each file just verified (replaced whole, and removed when a check fails): with two
    # boot servers (failover:), keepalived's check (failover/<server>/check.sh) holds the shared
    # address only where nginx serves them so. A run that finds the files unchanged keeps it valid.
    for f in "$@"; do
      printf '%s %s\n' "$(wc -c <"$f" | tr -d ' ')" "$f"
    done >"$sums.verified.part"
    mv "$sums.verified.part" "$sums.verified"
  )
  echo "all files of Harvester $version verified in $target"
}

target=${1:-/srv/www/harvester-artifacts/v1.6.0}
fetch v1.6.0 "$target" harvester-v1.6.0-amd64.sha512 harvester-v1.6.0-vmlinuz-amd64 harvester-v1.6.0-initrd-amd64 harvester-v1.6.0-rootfs-amd64.squashfs harvester-v1.6.0-amd64.iso
