#!/usr/bin/env bash
# harvgen: make the directory of boot programs that `boot.media_loaders` names, for boot ISOs and
# USB images (docs/install-without-pxe.md, "The boot programs"):
#   isolinux.bin, isohdpfx.bin   Debian 13's `isolinux`
#   ldlinux.c32                  Debian 13's `syslinux-common`
#   ipxe.lkrn, ipxe.efi          Debian 13's `ipxe` (Debian 12's ipxe.efi runs no autoexec.ipxe)
#   VERSIONS                     the three packages' versions
# Shipped in the npm package: `bash node_modules/harvgen/scripts/fetch-media-loaders.sh DIR`.
#
# The packages are downloaded with apt's own client, which checks them against Debian's signed
# archive (the debian-archive-keyring package), through an apt state of this script's own in a
# temporary directory: nothing is installed, the host's apt sources stay as they are, and no root is
# needed. Needs apt-get and dpkg-deb (Debian 12 or 13, Ubuntu) and Debian's archive over the network.
# Writes into DIR, created if missing; the files it makes replace those of the same name.
# Not run by harvgen: harvgen itself reads the directory only.
set -euo pipefail

if [[ $# -ne 1 || $1 == -* ]]; then
  echo "usage: $0 DIR   (the directory boot.media_loaders names; created if missing)" >&2
  exit 2
fi
dest=$1
for tool in apt-get dpkg-deb; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch-media-loaders: $tool is missing: this script needs apt (Debian, Ubuntu); elsewhere, take the files from Debian 13's packages by hand (docs/install-without-pxe.md, \"The boot programs\")" >&2
    exit 1
  fi
done

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/apt.sh
source "$repo_root/scripts/lib/apt.sh"
work_dir media-loaders
# A state of its own unless one is given (HARVGEN_APT_STATE: kept between runs, the lists updated).
export HARVGEN_APT_STATE=${HARVGEN_APT_STATE:-$work/apt}
alt_suites=trixie
alt_apt
alt_update
pins=()
for pkg in ipxe isolinux syslinux-common; do
  version=$(alt_version "$pkg" trixie)
  if [[ -z $version ]]; then
    echo "fetch-media-loaders: no $pkg in Debian 13 (trixie)" >&2
    exit 1
  fi
  pins+=("$pkg=$version")
done
APT_CONFIG=$alt/apt.conf download "${pins[@]}"
for deb in "$work"/dl/*.deb; do dpkg-deb -x "$deb" "$work/x"; done
mkdir -p "$dest"
while read -r name from; do
  cp "$work/x/$from" "$dest/$name.tmp"
  mv "$dest/$name.tmp" "$dest/$name"
done <<'FILES'
isolinux.bin usr/lib/ISOLINUX/isolinux.bin
isohdpfx.bin usr/lib/ISOLINUX/isohdpfx.bin
ldlinux.c32 usr/lib/syslinux/modules/bios/ldlinux.c32
ipxe.lkrn usr/lib/ipxe/ipxe.lkrn
ipxe.efi usr/lib/ipxe/ipxe.efi
FILES
printf '%s\n' "${pins[@]}" > "$dest/VERSIONS"
echo "fetch-media-loaders: ${pins[*]} (Debian 13) -> $dest"
