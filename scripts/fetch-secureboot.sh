#!/usr/bin/env bash
# Fetch Debian's signed boot files for the Secure Boot test (test/real/secureboot.test.ts), with
# apt's ordinary client, unpacked with dpkg-deb (never installed: the host's boot loader is not
# touched), into .tmp/real/secureboot/:
#   shimx64.efi   shim-signed's shimx64.efi.signed: Microsoft-signed, trusts Debian's key, loads grubx64.efi
#   grubx64.efi   grub-efi-amd64-signed's grubnetx64.efi.signed: the network GRUB, signed by Debian
#   gcdx64.efi    grub-efi-amd64-signed's gcdx64.efi.signed: the CD GRUB, signed by Debian (the boot ISO
#                 test shows it cannot fetch over HTTP: test/real/media.test.ts)
#   VERSION       the two package versions
# Idempotent: does nothing when VERSION exists (delete the dir to refetch).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${HARVGEN_SECUREBOOT_DIR:-$repo_root/.tmp/real/secureboot}
if [[ -s $dest/VERSION && -s $dest/shimx64.efi && -s $dest/grubx64.efi && -s $dest/gcdx64.efi ]]; then
  echo "fetch-secureboot: $(tr '\n' ' ' < "$dest/VERSION")already in $dest"
  exit 0
fi

# shellcheck source=lib/apt.sh
source "$repo_root/scripts/lib/apt.sh"
work_dir secureboot
download shim-signed grub-efi-amd64-signed
for deb in "$work"/dl/*.deb; do dpkg-deb -x "$deb" "$work/x"; done

stage=$work/stage
mkdir -p "$stage"
cp "$work/x/usr/lib/shim/shimx64.efi.signed" "$stage/shimx64.efi"
cp "$work/x/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$stage/grubx64.efi"
cp "$work/x/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed" "$stage/gcdx64.efi"
for deb in "$work"/dl/*.deb; do echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"; done > "$stage/VERSION"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$stage" "$dest"
echo "fetch-secureboot: $(tr '\n' ' ' < "$dest/VERSION")-> $dest"
