#!/usr/bin/env bash
# Fetch a small Linux kernel for the real-program boot test (test/real/boot.test.ts).
#
# Downloads Debian's generic amd64 kernel package with `apt-get download` (the package is
# NOT installed), and extracts into .tmp/real/kernel/:
#   vmlinuz             the kernel
#   modules/*.ko        the NIC drivers the test initramfs loads, 8021q (the guest's tagged
#                       VLAN, `vlan=` on its command line) and the disk drivers of the disk
#                       test (virtio-scsi, SCSI disks, virtio-blk), with their dependencies
#   modules.list        module file names in load order (dependencies first)
#   VERSION             the kernel package name
# Idempotent: does nothing when .tmp/real/kernel/VERSION exists (delete the dir to refetch).
# Override the destination with HARVGEN_KERNEL_DIR, the package with HARVGEN_KERNEL_PKG.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${HARVGEN_KERNEL_DIR:-$repo_root/.tmp/real/kernel}

# Leaf modules we want; their dependencies are resolved from each module's .modinfo.
# 8021q pulls in llc, stp, garp and mrp (packed in that load order, dependencies first);
# virtio_scsi and sd_mod pull in scsi_mod and scsi_common.
wanted=(virtio_net virtio_pci e1000 8021q virtio_scsi sd_mod virtio_blk)

if [[ -s $dest/VERSION && -s $dest/vmlinuz && -s $dest/modules.list ]]; then
  echo "fetch-test-kernel: $(cat "$dest/VERSION") already in $dest"
  exit 0
fi

pkg=${HARVGEN_KERNEL_PKG:-}
if [[ -z $pkg ]]; then
  # linux-image-amd64 is the metapackage; its Depends names the current versioned package.
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
if [[ -z $pkg ]]; then
  echo "fetch-test-kernel: cannot find the kernel package (apt-cache depends linux-image-amd64); run apt-get update" >&2
  exit 1
fi

# shellcheck source=lib/apt.sh
source "$repo_root/scripts/lib/apt.sh"
work_dir kernel
download "$pkg"
deb=$(ls "$work"/dl/*.deb)
dpkg-deb -x "$deb" "$work/x"

vmlinuz=$(ls "$work"/x/boot/vmlinuz-* | head -n1)
moddir=$(ls -d "$work"/x/lib/modules/* | head -n1)

# Resolve dependencies (the package has no modules.dep; depmod is not needed).
declare -A path_of=()
while IFS= read -r -d '' f; do
  name=$(basename "$f"); name=${name%.ko}
  path_of[$name]=$f
done < <(find "$moddir" -name '*.ko' -print0)

deps_of() { tr '\0' '\n' < "${path_of[$1]}" | sed -n 's/^depends=//p' | tr ',' ' '; }

order=()
declare -A seen=()
visit() {
  local m=$1 d
  [[ -n ${seen[$m]:-} ]] && return 0
  seen[$m]=1
  if [[ -z ${path_of[$m]:-} ]]; then
    # Built into the kernel (=y): nothing to load.
    return 0
  fi
  for d in $(deps_of "$m"); do visit "$d"; done
  order+=("$m")
}
for m in "${wanted[@]}"; do visit "$m"; done

stage=$work/stage
mkdir -p "$stage/modules"
cp "$vmlinuz" "$stage/vmlinuz"
: > "$stage/modules.list"
for m in "${order[@]}"; do
  cp "${path_of[$m]}" "$stage/modules/$m.ko"
  echo "$m.ko" >> "$stage/modules.list"
done
echo "$pkg" > "$stage/VERSION"

mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$stage" "$dest"
echo "fetch-test-kernel: $pkg -> $dest (modules: ${order[*]})"
