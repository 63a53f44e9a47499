// boot: how machines enter the tree (unknown machines, Secure Boot, leaving iPXE for the disk).
import { nodeFirmware } from '../../model/index.ts';
import { releases, releaseShim, servesRelease } from '../../model/served-releases.ts';
import { effectiveConfig } from '../../derive/harvester/effective.ts';
import type { Rule, RuleContext } from '../rule.ts';

/** `unknown: join` has what an unknown machine needs; Secure Boot fits the site; UEFI `exit` with ipxe.efi. */
export const bootRule: Rule = {
  name: 'boot',
  codes: [
    'BOOT_UNKNOWN_JOIN_INCOMPLETE',
    'BOOT_SECURE_BOOT_INVALID',
    'BOOT_EXIT_MAY_HANG',
    'BOOT_SECURE_BOOT_NO_SHIM',
    'BOOT_SERVER_LOOPBACK',
  ],
  check(ctx) {
    checkLoopback(ctx);
    checkUnknownJoin(ctx);
    checkSecureBoot(ctx);
    checkOsShims(ctx);
    checkExitMayHang(ctx);
  },
};

/**
 * `boot.server` on a loopback address (127.0.0.0/8, ::1, `localhost`): every machine would fetch
 * its scripts from itself. A warning: a test of the tree on the build machine may want it.
 */
function checkLoopback({ model, report }: RuleContext): void {
  const host = model.boot.host.toLowerCase().replace(/^\[|\]$/g, '');
  const loopback = /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost' || host.endsWith('.localhost');
  if (!loopback || model.nodes.length === 0) return;
  report({
    code: 'BOOT_SERVER_LOOPBACK',
    message: `boot.server's host ${model.boot.host} is a loopback address: each machine would ask itself for its boot script, and every script, config and release URL of the tree names it`,
    hint: 'Name the boot server by an address (or name) the machines reach on their network, e.g. `boot.server: http://192.168.122.1`.',
    at: ['boot', 'server'],
  });
}

/** `boot.unknown: join` needs a cluster to join, an install device and a NIC name (the machines' MACs are unknown). */
function checkUnknownJoin({ input, model, report }: RuleContext): void {
  const join = model.unknownJoin;
  // Without `harvester:` and `cluster:` the model has no node for unknown machines to join as.
  if (input.boot.unknown === 'join' && (!model.cluster || !model.release)) {
    report({
      code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
      message: '`boot.unknown: join` installs Harvester on unknown machines, but the site has no `harvester:` and `cluster:` to join',
      hint: 'Add the `harvester:` and `cluster:` sections, or use `unknown: wait` or `local`.',
      at: ['boot', 'unknown'],
    });
  } else if (join) {
    // Its MACs are unknown, so neither a MAC-pinned NIC nor a per-node disk can be used.
    // The device as the installer reads it: a setting, or `install.device` under `config:`.
    if (typeof effectiveConfig(model, join).get('install.device') !== 'string') {
      const selector = join.install.deviceSelector !== undefined;
      report({
        code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
        message: selector
          ? '`boot.unknown: join` installs machines the inventory does not know on the `install.device` of `defaults`, which names its disk by what it is: no facts were measured of an unknown machine, so nothing resolves it'
          : '`boot.unknown: join` needs an install device for machines the inventory does not know',
        hint: selector
          ? 'Give `defaults` a device path (`/dev/disk/by-path/...` names the same slot on like machines), and the selectors to the nodes.'
          : 'Set `install: { device: ... }` in `defaults` (or the repo defaults): the disk every unknown machine is installed on.',
        at: ['boot', 'unknown'],
      });
    }
    if (join.install.dataDiskSelector !== undefined && typeof effectiveConfig(model, join).get('install.data_disk') !== 'string') {
      report({
        code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
        message:
          '`boot.unknown: join` installs machines the inventory does not know with the `install.data_disk` of `defaults`, which names its disk by what it is: no facts were measured of an unknown machine, so nothing resolves it',
        hint: 'Give `defaults` a data disk path (`/dev/disk/by-path/...` names the same slot on like machines), or none, and the selectors to the nodes.',
        at: ['boot', 'unknown'],
      });
    }
    if (!join.interfaces.some((nic) => nic.name !== undefined)) {
      report({
        code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
        message: "`boot.unknown: join` needs the management NIC's name for machines the inventory does not know",
        hint: 'Set `interfaces: [{ name: eno1 }]` in `defaults` (their MACs are unknown, so only a name can pick the NIC).',
        at: ['boot', 'unknown'],
      });
    }
  }
}

/** Secure Boot needs UEFI, a shim distinct from its loader, and the release's shim served by this site. */
function checkSecureBoot({ model, report }: RuleContext): void {
  const sb = model.boot.secureBoot;
  // Secure Boot is for the x86-64 machines (kernelShim, src/model/boot.ts), and what they boot is
  // the site's `boot.firmware` (nodeFirmware): arm64 machines are UEFI but take no shim.
  if (sb && model.boot.firmware === 'bios') {
    report({
      code: 'BOOT_SECURE_BOOT_INVALID',
      message: 'boot.secure_boot is set on a BIOS site: Secure Boot is a UEFI feature',
      hint: 'Set `boot.firmware: uefi`, or remove `secure_boot`.',
      at: ['boot', 'secure_boot'],
      target: 'key',
    });
  }
  if (sb && sb.shim === sb.loader) {
    report({
      code: 'BOOT_SECURE_BOOT_INVALID',
      message: `boot.secure_boot names ${sb.shim} as both the shim and the loader it loads`,
      hint: 'The shim loads a second file (distribution shims load grubx64.efi): store the signed iPXE under that name.',
      at: ['boot', 'secure_boot', 'loader'],
    });
  }
  // SUSE's shim exists only inside the ISO: fetch.sh takes it out where the release files are
  // kept for this nginx; a release served from elsewhere has none to point iPXE at.
  const away = releases(model).find((r) => releaseShim(model, r) && !servesRelease(model, r));
  if (away) {
    report({
      code: 'BOOT_SECURE_BOOT_INVALID',
      message: `boot.secure_boot hands the installer kernel to the release's SUSE shim, which Harvester publishes only inside its ISO, but the ${away.version.raw} files are served from ${away.artifacts.base}, not by this site's nginx: there is no shim there for iPXE to fetch`,
      hint: `Serve the release files from the boot server (\`harvester.artifacts: ${model.boot.server}/artifacts/${away.version.raw}\`): artifacts/fetch.sh then takes the shim out of the ISO and nginx serves it.`,
      at: ['harvester', 'artifacts'],
    });
  }
}

/** With Secure Boot, every UEFI x86-64 OS profile names its distribution's shim. */
function checkOsShims({ model, report }: RuleContext): void {
  const sb = model.boot.secureBoot;
  // A generic OS kernel is signed by its distribution: iPXE hands it to that distribution's shim.
  if (sb) {
    const named = new Set<string>();
    for (const node of model.nodes) {
      if (node.boot !== 'os' || node.arch !== 'x86_64' || nodeFirmware(model, node) !== 'uefi') continue;
      const os = node.os;
      if (os.shim !== undefined || node.state === 'local' || named.has(os.name)) continue;
      named.add(os.name);
      report({
        code: 'BOOT_SECURE_BOOT_NO_SHIM',
        message: `OS profile ${os.name} (node ${node.hostname}) has no \`shim\`: with Secure Boot on, the firmware refuses its distribution-signed kernel unless iPXE hands it to the distribution's shim`,
        hint: "Set `shim:` on the profile to the URL of the distribution's signed shim (e.g. its shimx64.efi next to the kernel).",
        at: ['os_profiles', os.name],
        target: 'key',
      });
    }
  }
}

/** UEFI machines that leave iPXE with `exit` under `uefi_loader: ipxe.efi` may hang. */
function checkExitMayHang({ model, report }: RuleContext): void {
  const sb = model.boot.secureBoot;
  // Every script can leave iPXE with `exit`: local and install-once nodes to boot their disk,
  // unknown.ipxe under every policy (`wait` after its pause), a node script that gives up.
  // ipxe.efi brings its own NIC drivers and takes the NIC from the firmware where it has one;
  // whether the firmware survives that on `exit` depends on it. snponly.efi (the default) only
  // uses the firmware's network stack (QEMU + OVMF boots: test/real/lifecycle.test.ts).
  // `uefi_loader` is what the x86-64 UEFI machines load (arm64 ones load `arm64_loader`): the
  // nodes it concerns are those; unknown machines boot the site's firmware.
  const leaving = model.nodes.find((n) => n.state !== 'install' && n.arch === 'x86_64' && nodeFirmware(model, n) === 'uefi');
  if (model.boot.uefiLoader === 'ipxe.efi' && !sb && (leaving || model.boot.firmware === 'uefi')) {
    const node = leaving;
    const what = node
      ? `node ${node.hostname} (state: ${node.state}) boots its local disk by leaving iPXE with \`exit\``
      : `unknown.ipxe (boot.unknown: ${model.boot.unknown}) leaves iPXE with \`exit\` for machines the inventory does not know`;
    report({
      code: 'BOOT_EXIT_MAY_HANG',
      message: `${what}, and with \`uefi_loader: ipxe.efi\` some firmware never gets control back: the machine sits at iPXE until it is power-cycled`,
      hint: 'Use `boot.uefi_loader: snponly.efi` (the default; it returns to the firmware cleanly), or make the disk the first boot entry.',
      ...(node
        ? { node: node.hostname, at: node.sources.state ?? ['nodes', node.index] }
        : { at: ['boot', 'uefi_loader'], target: 'key' as const }),
    });
  }
}
