#!/bin/sh
# harvgen: download the Harvester v1.6.0 release files that site location_y boots
# from, and verify them against the release's SHA-512 list. Not run by `harvgen build`.
# Usage: fetch.sh [TARGET_DIR]
#   TARGET_DIR            default /srv/www/harvester-artifacts/v1.6.0 (nginx.artifacts_dir)
#   HARVGEN_RELEASE_URL   default https://releases.rancher.com/harvester/v1.6.0
# Already downloaded files are kept; everything is checked again on every run.
set -eu
target=${1:-/srv/www/harvester-artifacts/v1.6.0}
release_url=${HARVGEN_RELEASE_URL:-https://releases.rancher.com/harvester/v1.6.0}
files='harvester-v1.6.0-vmlinuz-amd64 harvester-v1.6.0-initrd-amd64 harvester-v1.6.0-rootfs-amd64.squashfs harvester-v1.6.0-amd64.iso'
sums=harvester-v1.6.0-amd64.sha512
version=v1.6.0

mkdir -p "$target"
cd "$target"
curl -fsSL --retry 3 -o "$sums.part" "$release_url/$sums"
mv "$sums.part" "$sums"
for f in $files; do
  if [ -s "$f" ]; then
    echo "have $f"
  else
    echo "fetching $f"
    curl -fL --retry 3 -o "$f.part" "$release_url/$f"
    mv "$f.part" "$f"
  fi
done
for f in $files; do
  grep -q " \*\{0,1\}$f\$" "$sums" || { echo "$f is not listed in $sums" >&2; exit 1; }
done
sha512sum --check --ignore-missing "$sums"
echo "all files of Harvester $version verified in $target"
