#!/usr/bin/env bash
# Fetch Debian 13's iPXE for the boot ISO tests (test/real/media.test.ts, test/real/bmc-emulators.test.ts):
# the `ipxe` package of trixie, downloaded with apt's ordinary client through the private apt
# state of scripts/lib/apt.sh and unpacked with dpkg-deb (never installed: the host's own ipxe
# package, Debian 12's, stays as it is), into .tmp/real/ipxe/:
#   ipxe.efi      the UEFI iPXE with its own NIC drivers, which runs autoexec.ipxe from its medium
#                 (Debian 12's, of 2019, does not): the boot ISO's UEFI loader
#   ipxe.lkrn     the BIOS iPXE ISOLINUX loads: the boot ISO's BIOS loader
#   snponly.efi   the UEFI iPXE that drives the NIC only through the firmware (the mutation that
#                 shows why the ISO's loader must bring its own drivers)
#   VERSION       the package's version
# Idempotent: does nothing when VERSION exists (delete the dir to refetch).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${HARVGEN_IPXE_DIR:-$repo_root/.tmp/real/ipxe}
if [[ -s $dest/VERSION && -s $dest/ipxe.efi && -s $dest/ipxe.lkrn && -s $dest/snponly.efi ]]; then
  echo "fetch-ipxe: ipxe $(cat "$dest/VERSION") already in $dest"
  exit 0
fi

# shellcheck source=lib/apt.sh
source "$repo_root/scripts/lib/apt.sh"
work_dir ipxe
alt_apt
alt_update
version=$(alt_version ipxe trixie)
if [[ -z $version ]]; then
  echo "fetch-ipxe: no ipxe in Debian trixie" >&2
  exit 1
fi
APT_CONFIG=$alt/apt.conf download "ipxe=$version"
deb=$(ls "$work"/dl/ipxe_*.deb)
dpkg-deb -x "$deb" "$work/x"
stage=$work/stage
mkdir -p "$stage"
for f in ipxe.efi ipxe.lkrn snponly.efi; do cp "$work/x/usr/lib/ipxe/$f" "$stage/$f"; done
dpkg-deb -f "$deb" Version > "$stage/VERSION"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$stage" "$dest"
echo "fetch-ipxe: ipxe $(cat "$dest/VERSION") -> $dest"
