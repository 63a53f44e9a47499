#!/usr/bin/env bash
# Install what the real-program tests (test/real/, `npm run test:real`) need on Debian 12
# (bookworm), then fetch the files they download from Debian (the test kernel, cloud-init's
# packages, the signed shim and GRUB). Run as root. Used by .ci/run; fine on a dev box.
# `--packages-only` installs the packages and fetches nothing: .ci/run passes it, since the test
# runner (scripts/run-tests.mjs) fetches those files itself, in the background, as root.
#
#   nginx            nginx -t and a real nginx serving the tree
#   docker-registry skopeo apache2-utils
#                    the CNCF Distribution registry, skopeo as an independent OCI client and htpasswd
#                    (bcrypt accounts): test/real/oci-registry.test.ts and test/real/fleet.test.ts
#   dnsmasq-base     dnsmasq --test and a real DHCP/TFTP server (no service, unlike `dnsmasq`)
#   libvirt-clients  virt-xml-validate and virsh (test:///default driver, no daemon)
#   libxml2-utils    xmllint, which virt-xml-validate runs (libvirt-clients does not depend on it)
#   socat            ExecStart= of the generated units (systemd-analyze verify checks it exists)
#   qemu-system-x86  the iPXE client VM (TCG)
#   ipxe-qemu        iPXE option ROMs for QEMU's NICs (BIOS boot)
#   ipxe             undionly.kpxe / ipxe.efi / snponly.efi served over TFTP
#   ovmf             UEFI firmware for QEMU
#   busybox-static   the test initramfs, and udhcpc/tftp as DHCP test clients
#   cpio             packs the initramfs
#   iproute2         network namespaces, veth and tap devices (and `bridge`: port isolation cuts a failover
#                    pair's link in test/real/failover-split.test.ts)
#   iptables nftables  a firewall dropping VRRP on one server (failover-split), and the nftables rules
#                    harvgen writes for each failover server (failover/<server>/nftables.conf)
#   grub-efi-amd64-bin  grub-mkstandalone's x86_64-efi modules: the installed-system stand-in on the
#                    boot lifecycle test's UEFI disk (only the -bin package: the host's boot loader
#                    is not touched)
#   dosfstools       mkfs.vfat for that disk's EFI system partition
#   mtools           mmd/mcopy, to fill that FAT image without mounting it
#   xorriso genisoimage
#                    xorriso and isoinfo read the per-node boot ISO harvgen writes itself (El Torito
#                    entries, files, xorriso's own -boot-info-table to compare); fsck.fat (dosfstools)
#                    and mtools read its FAT image: test/real/media-image.test.ts; both read the
#                    images a BMC fetches in test/real/media-access.test.ts
#   gdisk fdisk      sgdisk -v, sfdisk --json and fdisk -l read the USB image's GPT (its EFI system partition,
#                    its CRCs): test/real/media-image.test.ts
#   isolinux syslinux-common
#                    isolinux.bin and ldlinux.c32, the BIOS boot programs of the per-node boot ISOs that
#                    test/real/media.test.ts boots (with ipxe's ipxe.lkrn and a GRUB made by grub-mkimage,
#                    from grub-common and grub-efi-amd64-bin's modules)
#   tgt              tgtd/tgtadm: the iSCSI target a diskless node sanboots (generic.test.ts); the test
#                    runs its own tgtd in a network namespace (the tgt service is not needed)
#   python3-yaml python3-jinja2 python3-requests python3-jsonschema python3-configobj
#   python3-oauthlib python3-netifaces python3-jsonpatch
#                    what cloud-init's own code imports: test/real/cloud-init.test.ts runs Debian's
#                    cloud-init packages, unpacked (never installed) by scripts/fetch-cloud-init.sh
#   (scripts/fetch-ipxe.sh downloads Debian 13's ipxe and unpacks it, never installs it: the boot ISO
#                    tests' ipxe.efi and ipxe.lkrn)
#   (scripts/fetch-secureboot.sh downloads shim-signed and grub-efi-amd64-signed and unpacks them,
#                    never installs them: test/real/secureboot.test.ts boots their signed files)
#   libvirt-daemon-driver-qemu qemu-system-arm qemu-efi-aarch64 qemu-utils
#                    virt-qemu-run (libvirt's embedded QEMU driver, no daemon) runs an arm64 node's lab
#                    domain on this x86-64 host (test/real/lab-arm64.test.ts); the driver wants the
#                    libvirt-qemu user and group to exist (libvirt-daemon-system would create them, but
#                    it also starts a network), so they are created below when missing
#   libvirt-daemon python3-libvirt python3-venv
#                    the BMC emulator tests (test/real/bmc-emulators.test.ts): a libvirtd the tests start
#                    themselves (no systemd, in a network and mount namespace of their own), and the
#                    venv of scripts/install-bmc-emulators.sh (sushy-tools and virtualbmc from PyPI,
#                    pinned in .ci/bmc-emulators.txt) over Debian's libvirt binding
#   openssh-client   ssh-keygen -Y sign/verify: signed deploy trees (test/real/signing.test.ts)
#   (scripts/install-cosign.sh builds sigstore's cosign from the Go module proxy, pinned, with the
#                    machine's Go: test/real/cosign.test.ts verifies published sites with it)
#   git, rsync       the README's workflow, followed in a temporary repository (test/real/workflow.test.ts):
#                    commit, a clone for CI, the deploy tree copied to the served directory
#   shellcheck dash  every generated shell script (test/real/bmc.test.ts); the BMC scripts run under
#                    dash (test/real/bmc-quirks.test.ts)
#   openipmi ipmitool jq openssl curl
#                    the BMC scripts run for real: ipmi_sim (a real IPMI LAN BMC simulator) and ipmitool
#                    for IPMI; curl, jq and openssl (the tests' HTTPS Redfish service) for Redfish
#   python3-sushy    OpenStack's Redfish client library: the same operations, to compare requests
#   zsh man-db       `zsh -n` and a completion run of `harvgen completion zsh` (test/cli-help.test.ts);
#                    `man --warnings` renders man/harvgen.1 (test/man.test.ts)
#   systemd          systemd-analyze (only installed when missing, so an existing systemd is not upgraded)
#   kea-dhcp4-server isc-dhcp-server kea-dhcp6-server
#                    kea-dhcp4 -t / dhcpd -t and the real servers of test/real/dhcp-forms.test.ts, which
#                    runs its own kea-dhcp4 and dhcpd in network namespaces: the services the packages
#                    install are stopped and disabled below (Kea's default config listens nowhere and
#                    dhcpd's has no interfaces, but neither should run on a CI host); kea-dhcp6 -t checks
#                    the DHCPv6 config of IPv6 networks (test/real/ipv6.test.ts)
#   keepalived       `keepalived -t` of each failover server's keepalived.conf and a real pair of
#                    keepalived in network namespaces (test/real/failover.test.ts); its own service is
#                    stopped and disabled below (its default config is empty, but it should not run)
#   network-manager  nm-initrd-generator, the program that turns the installer's kernel line into its
#                    network in the initrd of Harvester v1.7 and later (test/real/installer-network.test.ts);
#                    its daemon is stopped and disabled below unless it was running before
#   udev             udevadm, scsi_id and 60-persistent-storage.rules, copied into the disk test's guest
#                    (test/real/disk-selector.test.ts), which names its disks under /dev/disk/by-id/
#   chromium         Debian's browser, headless, driven by puppeteer-core (a pinned dev dependency that
#                    downloads no browser): test/real/report-browser.test.ts loads `harvgen report`'s
#                    pages, screenshots them, runs axe-core and watches every request they make
# Do not add libvirt-daemon-system: on a systemd host it starts a network on 192.168.122.1/24.
set -euo pipefail

if [[ $# -gt 1 || ( $# -eq 1 && $1 != --packages-only ) ]]; then
  echo "usage: install-real-deps.sh [--packages-only]" >&2
  exit 2
fi
if [[ $(id -u) != 0 ]]; then
  echo "install-real-deps: run as root" >&2
  exit 2
fi

packages=(nginx dnsmasq-base docker-registry skopeo apache2-utils libvirt-clients libxml2-utils socat qemu-system-x86 ipxe-qemu ipxe ovmf
  busybox-static cpio iproute2 iptables nftables grub-efi-amd64-bin dosfstools mtools xorriso genisoimage gdisk fdisk isolinux syslinux-common tgt
  python3 python3-yaml python3-jinja2 python3-requests python3-jsonschema python3-configobj python3-oauthlib
  python3-netifaces python3-jsonpatch libvirt-daemon-driver-qemu libvirt-daemon python3-libvirt python3-venv qemu-system-arm qemu-efi-aarch64 qemu-utils git rsync
  openssh-client shellcheck dash openipmi ipmitool jq openssl curl python3-sushy
  kea-dhcp4-server kea-dhcp6-server isc-dhcp-server keepalived zsh man-db network-manager udev chromium)
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)

export DEBIAN_FRONTEND=noninteractive
nm_was_active=$(systemctl is-active --quiet NetworkManager.service 2>/dev/null && echo yes || echo no)
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

# The DHCP servers' own services (started on a systemd host; a container's policy-rc.d starts none).
# network-manager is here for its nm-initrd-generator alone (test/real/installer-network.test.ts):
# its daemon is stopped too, unless it was running before (a desktop that uses it).
if [[ -d /run/systemd/system ]]; then
  systemctl disable --now kea-dhcp4-server.service kea-dhcp6-server.service isc-dhcp-server.service isc-dhcp-server6.service keepalived.service nftables.service >/dev/null 2>&1 || true
  [[ ${nm_was_active:-} == yes ]] || systemctl disable --now NetworkManager.service >/dev/null 2>&1 || true
fi

getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin -g libvirt-qemu libvirt-qemu

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo_root/scripts/install-bmc-emulators.sh"
"$repo_root/scripts/install-cosign.sh"

[[ ${1:-} == --packages-only ]] && exit 0
"$repo_root/scripts/fetch-test-kernel.sh"
"$repo_root/scripts/fetch-cloud-init.sh"
"$repo_root/scripts/fetch-secureboot.sh"
"$repo_root/scripts/fetch-ipxe.sh"
