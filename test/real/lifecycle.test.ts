// The boot lifecycle, proven with real firmware: a node that is installed (`state: local`) boots
// its disk, `state: install-once` installs on an empty disk and boots the disk once something is
// installed, unknown machines boot their disk (`boot.unknown: local`) or install as joining nodes
// (`boot.unknown: join`), UEFI HTTP boot gets the iPXE loader from nginx instead of TFTP, and the
// generated embed.ipxe boots a static node with no DHCP server at all.
//
// Labs, VMs and the stand-in installer are those of boot.test.ts (helpers/lab.ts, qemu.ts,
// initramfs.ts). The disks (helpers/disks.ts) stand in for an installed system: a BIOS boot
// sector, or an EFI system partition labelled COS_GRUB with a standalone GRUB, each printing
// HARVGEN-DISK-BOOTED on the serial console and ending the VM. An all-zero disk is a machine with
// nothing installed. Disks come after the NIC in the boot order, so the tree decides.
//
//   BIOS: SeaBIOS -> the NIC's iPXE ROM -> boot.ipxe -> node script: `sanboot --drive 0x80`
//         boots a disk with a valid MBR and falls through on an empty one.
//   UEFI: OVMF PXE (TFTP snponly.efi) or HTTP boot (snponly.efi from nginx) -> boot.ipxe -> node
//         script: `exit 1` back to OVMF, which tries its next boot entries and then the disk;
//         install-once first looks for file://COS_GRUB/EFI/BOOT/bootx64.efi.
//   embed: Debian's ipxe.lkrn as QEMU's -kernel with the generated embed.ipxe as its initrd
//         (`imgexec <INITRD>`), standing in for an iPXE ISO built with that script.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, KERNEL_DIR, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab, IPXE_DIR } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootOptions, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, clusterSecrets, copyTree, type SiteTree, type ManifestNode, type Manifest } from './helpers/tree.ts';
import { DISK_MARKER, ESP_LABEL, UEFI_DISK_PROGRAMS, biosMarkerDisk, emptyDisk, uefiMarkerDisk } from './helpers/disks.ts';
import { run } from './helpers/proc.ts';
import { echoes, flat, markers, pathOf, requests, selectedCases, uefiLoaderOf } from './helpers/boot-log.ts';

/** The two lifecycle fixtures (built here, not in tree.ts: the UEFI one copies /usr/lib/ipxe). */
const SOURCES = {
  bios: path.join(REPO_ROOT, 'test/fixtures/real/lifecycle_bios'),
  uefi: path.join(REPO_ROOT, 'test/fixtures/real/lifecycle_uefi'),
  /** harvgen's defaults on UEFI: the default loader and `boot.unknown: wait`. */
  uefiDefault: path.join(REPO_ROOT, 'test/fixtures/real/lifecycle_uefi_default'),
} as const;
type Key = keyof typeof SOURCES;

/**
 * Hard limits per boot. Measured two at a time: BIOS ~6 s to the disk, ~12-19 s to the installer;
 * UEFI ~25-34 s, a local-disk boot included (PXE, iPXE, `exit`, then OVMF's HTTP boot entry, iPXE
 * and `exit` again, then the disk).
 */
const LIMIT_MS = { bios: 90_000, uefi: 180_000 } as const;
/** After the disk's marker: how long QEMU gets to exit by itself. */
const DISK_EXIT_GRACE_MS = 5_000;

/** OVMF knobs: no IPv6 at all (skips the IPv6 PXE and HTTP boot entries); HTTP boot only. */
const OVMF_PXE = { IPv6Support: 'n' };
const OVMF_HTTP = { IPv6Support: 'n', IPv4PXESupport: 'n' };

/** What the firmware sees first. */
type Via = 'pxe' | 'http' | 'embed';
/** What ends the boot when the tree is right. */
type Expect = 'disk' | 'install';

interface LifecycleCase {
  id: string;
  title: string;
  key: Key;
  /** Node hostname, or undefined for a MAC the site does not know. */
  hostname?: string;
  disk: 'empty' | 'marker' | 'none';
  via: Via;
  expect: Expect;
  /** Break a copy of the tree first (the check must notice). */
  mutation?: 'no-sanboot' | 'unknown-shell';
  /** A shorter hard limit than the firmware's. */
  limitMs?: number;
}

const UNKNOWN_MAC = { bios: '52:54:00:ff:1b:99', uefi: '52:54:00:ff:1e:99', uefiDefault: '52:54:00:ff:1d:99' } as const;

// Longest first, so two lanes finish together.
const CASES: LifecycleCase[] = [
  {
    id: 'uefi-default-unknown-wait',
    key: 'uefiDefault',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    title:
      'UEFI (OVMF) with the defaults (snponly.efi, boot.unknown wait): an unknown MAC is shown its message, waits, returns to the firmware, and OVMF boots its disk',
  },
  {
    id: 'uefi-default-unknown-shell',
    key: 'uefiDefault',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    mutation: 'unknown-shell',
    // iPXE's prompt waits for a key forever: the boot stops once the prompt is shown after
    // unknown.ipxe ran (a machine that returns boots its disk in ~30-75 s, two boots at a time).
    limitMs: 100_000,
    title:
      "mutation: the same unknown machine whose unknown.ipxe ends at iPXE's prompt (`shell` for `exit 1`) never reaches its disk, and the disk check notices",
  },
  {
    id: 'uefi-local',
    key: 'uefi',
    hostname: 'lu-local',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    title:
      'UEFI (OVMF): the local node lu-local leaves network boot and OVMF boots the installed disk (ESP COS_GRUB); no installer fetched',
  },
  {
    id: 'uefi-once-installed',
    key: 'uefi',
    hostname: 'lu-once',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    title:
      'UEFI (OVMF): the install-once node lu-once finds file://COS_GRUB/EFI/BOOT/bootx64.efi and boots the installed disk; no installer fetched',
  },
  {
    id: 'uefi-once-empty',
    key: 'uefi',
    hostname: 'lu-once',
    disk: 'empty',
    via: 'pxe',
    expect: 'install',
    title: 'UEFI (OVMF): the install-once node lu-once with an empty disk installs with its own config',
  },
  {
    id: 'uefi-unknown-join',
    key: 'uefi',
    disk: 'empty',
    via: 'pxe',
    expect: 'install',
    title:
      'UEFI (OVMF), boot.unknown join: an unknown MAC with an empty disk installs with unknown/join.yaml (install.mode join, no hostname, BOOTIF of its NIC)',
  },
  {
    id: 'uefi-http',
    key: 'uefi',
    hostname: 'lu-http',
    disk: 'none',
    via: 'http',
    expect: 'install',
    title: 'UEFI HTTP boot (OVMF without PXE): snponly.efi comes from nginx, not TFTP, and lu-http reaches its installer',
  },
  {
    id: 'bios-local',
    key: 'bios',
    hostname: 'lb-local',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    title: 'BIOS (SeaBIOS): the local node lb-local boots its disk; nginx served only boot.ipxe and its script',
  },
  {
    id: 'bios-once-empty',
    key: 'bios',
    hostname: 'lb-once',
    disk: 'empty',
    via: 'pxe',
    expect: 'install',
    title: 'BIOS (SeaBIOS): the install-once node lb-once with an empty disk falls through sanboot and installs (static 192.168.122.31)',
  },
  {
    id: 'bios-once-installed',
    key: 'bios',
    hostname: 'lb-once',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    title: 'BIOS (SeaBIOS): the install-once node lb-once with a bootable disk boots it; no installer fetched',
  },
  {
    id: 'bios-unknown-local',
    key: 'bios',
    disk: 'marker',
    via: 'pxe',
    expect: 'disk',
    title: 'BIOS (SeaBIOS), boot.unknown local: an unknown MAC gets unknown.ipxe (its own script 404) and boots its disk, nothing else',
  },
  {
    id: 'bios-embed',
    key: 'bios',
    hostname: 'lb-once',
    disk: 'empty',
    via: 'embed',
    expect: 'install',
    title: 'embed.ipxe (ipxe.lkrn, no DHCP server in the network): lb-once sets its static address in iPXE and installs',
  },
  {
    id: 'bios-no-sanboot',
    key: 'bios',
    hostname: 'lb-once',
    disk: 'marker',
    via: 'pxe',
    expect: 'install',
    mutation: 'no-sanboot',
    title: 'mutation: lb-once without its sanboot line reinstalls over a bootable disk, and the disk check notices',
  },
];

/** manifest.json with the lifecycle fields (typed here so this file compiles before and after they land). */
type LifecycleManifest = Omit<Manifest, 'boot' | 'nodes'> & {
  boot: Manifest['boot'] & { unknown?: string };
  nodes: (Omit<ManifestNode, 'state'> & { state: string })[];
};
type LNode = LifecycleManifest['nodes'][number];

/** Everything one boot produced, for the assertions and the failure report. */
interface Outcome {
  tree: SiteTree;
  manifest: LifecycleManifest;
  node?: LNode;
  mac: string;
  disk?: string;
  result?: BootResult;
  access: string;
  dnsmasq: string;
  /** embed case: UDP sockets listening in the namespace before the boot (`ss -Hulnp`). */
  udpListeners?: string;
  /** embed case: busybox wget of /embed.ipxe from inside the namespace. */
  embedFetch?: { code: number | null; out: string };
  error?: unknown;
}

let trees: Promise<Record<Key, SiteTree>> | undefined;

/** Build both fixtures once per process (HARVGEN_REAL_OUT: use the ones in that tree if present). */
function getLifecycleTrees(): Promise<Record<Key, SiteTree>> {
  trees ??= buildFixtureTrees('lifecycle', SOURCES);
  return trees;
}

const manifestOf = (t: SiteTree): LifecycleManifest => t.manifest as unknown as LifecycleManifest;

/** HARVGEN_LIFECYCLE_ONLY=<id>,<id>: boot only these cases (debugging aid; the others are not registered). */
const SELECTED = selectedCases(CASES, 'HARVGEN_LIFECYCLE_ONLY');

/** The selected boots, started on first use, two at a time; each test awaits its own. */
const outcome = lazyBoots(
  SELECTED,
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await getLifecycleTrees() };
  },
  (c, { kernel, initrd, trees }) => runCase(c, trees[c.key], { kernel, initrd }),
);

async function diskFor(c: LifecycleCase): Promise<string | undefined> {
  if (c.disk === 'none') return undefined;
  if (c.disk === 'empty') return emptyDisk();
  return c.key === 'bios' ? biosMarkerDisk() : uefiMarkerDisk(ESP_LABEL);
}

async function runCase(c: LifecycleCase, base: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  let tree = base;
  const node = c.hostname ? manifestOf(tree).nodes.find((n) => n.hostname === c.hostname) : undefined;
  if (c.hostname && !node) throw new Error(`${tree.label}: no node ${c.hostname} in manifest.json`);
  const mac = node ? node.macs[0]! : UNKNOWN_MAC[c.key];
  if (c.mutation === 'unknown-shell') {
    // A machine that stays in iPXE (what a loader that never returns looks like from outside).
    tree = await copyTree(base, 'unknown-shell');
    const script = path.join(tree.dir, 'unknown.ipxe');
    const text = await readFile(script, 'utf8');
    const broken = text.replace(/^exit 1$/m, 'shell').replace(/^sleep \d+$/m, 'sleep 1');
    if (!/^shell$/m.test(broken) || !/^sleep 1$/m.test(broken))
      throw new Error(`mutation did not apply: no sleep or exit line in ${script}:\n${text}`);
    await writeFile(script, broken);
  }
  if (c.mutation === 'no-sanboot') {
    tree = await copyTree(base, 'no-sanboot');
    const script = path.join(tree.dir, node!.ipxe.find((x) => x.mac === mac)!.path);
    const text = await readFile(script, 'utf8');
    const broken = text.replace(/^[ \t]*sanboot\b.*\n/gm, '');
    if (broken === text) throw new Error(`mutation did not apply: no sanboot line in ${script}:\n${text}`);
    await writeFile(script, broken);
  }
  const firmware = tree.manifest.boot.firmware;
  const disk = await diskFor(c);
  const out: Outcome = { tree, manifest: manifestOf(tree), node, mac, disk, access: '', dnsmasq: '' };
  try {
    await withLab(
      tree,
      artifacts,
      async (lab) => {
        const server = new URL(tree.manifest.boot.server).hostname;
        if (c.via === 'embed') {
          out.udpListeners = await lab.ns.sh(['ss', '-Hulnp']);
          const r = await run(lab.ns.exec(['/bin/busybox', 'wget', '-q', '-O', '/dev/null', `${tree.manifest.boot.server}/embed.ipxe`]), {
            timeoutMs: 10_000,
          });
          out.embedFetch = { code: r.code, out: (r.stdout + r.stderr).trim() };
        }
        const opts: BootOptions = {
          firmware,
          mac,
          ns: lab.ns,
          tap: lab.tap,
          workDir: lab.workDir,
          timeoutMs: c.limitMs ?? LIMIT_MS[firmware],
          disk,
          debugExit: firmware === 'bios',
          stopWhen: stopper(c),
        };
        if (firmware === 'uefi') opts.ovmf = c.via === 'http' ? OVMF_HTTP : OVMF_PXE;
        if (c.via === 'embed') {
          opts.directKernel = {
            kernel: path.join(IPXE_DIR, 'ipxe.lkrn'),
            initrd: path.join(tree.dir, 'embed.ipxe'),
            append: 'imgexec <INITRD>',
          };
        }
        out.result = await bootVm(opts);
        // The test's own requests (embed.ipxe above) come from the server address: not the guest's.
        out.access = (await lab.accessLog())
          .split('\n')
          .filter((l) => !l.startsWith(`${server} `))
          .join('\n');
        out.dnsmasq = lab.dnsmasqLog();
      },
      { dnsmasq: c.via !== 'embed' },
    );
  } catch (err) {
    out.error = err;
  }
  return out;
}

const FATAL = ['Kernel panic', 'No bootable device', 'could not load the installer', 'Shell> ', 'HARVGEN-ERROR', 'giving up on'];

/** Why an `unknown-shell` boot stops: at iPXE's prompt, which waits for a key forever. */
const AT_PROMPT = "left at iPXE's prompt";

function stopper(c: LifecycleCase): (raw: string) => string | undefined {
  let markerAt = 0;
  return (raw) => {
    const s = cleanSerial(raw);
    for (const fatal of FATAL) if (s.includes(fatal)) return fatal;
    if (c.mutation === 'unknown-shell' && s.includes('leaving network boot') && /iPXE> ?$/.test(s.trimEnd() + ' ')) return AT_PROMPT;
    if (c.expect === 'disk' && /HARVGEN-CMDLINE|Linux version/.test(s)) return 'a kernel booted';
    if (c.expect === 'install' && s.includes(DISK_MARKER)) return 'the local disk booted';
    if (s.includes(DISK_MARKER)) {
      markerAt ||= Date.now();
      if (Date.now() - markerAt > DISK_EXIT_GRACE_MS) return 'disk marker seen, but QEMU did not exit';
    }
    return undefined;
  };
}

/** The serial log without line breaks: SeaBIOS's serial console wraps iPXE's output at 80 columns. */

/** Things worth a look that do not fail a boot: iPXE commands the firmware's iPXE lacks. */
function notes(o: Outcome): string[] {
  const s = cleanSerial(o.result?.serial ?? '');
  return [...new Set([...s.matchAll(/^.*: command not found.*$/gm)].map((m) => `iPXE: ${m[0].trim()}`))];
}

/** The tree's own prefix on the server ('' when served at the root). */
const prefixOf = (tree: SiteTree): string => new URL(tree.manifest.boot.server).pathname.replace(/\/+$/, '');

/** The script of the MAC that booted: the node's, or unknown.ipxe. */
async function scriptOf(o: Outcome): Promise<{ rel: string; url: string; text: string }> {
  if (o.node) {
    const s = o.node.ipxe.find((x) => x.mac === o.mac)!;
    return { rel: s.path, url: s.url, text: await readFile(path.join(o.tree.dir, s.path), 'utf8') };
  }
  return {
    rel: 'unknown.ipxe',
    url: o.tree.manifest.boot.unknown_url,
    text: await readFile(path.join(o.tree.dir, 'unknown.ipxe'), 'utf8'),
  };
}

/** Problems common to every boot of a known or unknown MAC: the entry script and the MAC's script. */
async function entryProblems(o: Outcome, reqs: ReturnType<typeof requests>): Promise<string[]> {
  const p: string[] = [];
  const { tree } = o;
  const entry = pathOf(tree.manifest.boot.entry_url);
  if (!reqs.some((r) => r.path === entry && r.status === 200)) p.push(`nginx never answered 200 for ${entry}`);
  const own = `${prefixOf(tree)}/ipxe/${o.mac.replace(/:/g, '-')}.ipxe`;
  const unknown = pathOf(tree.manifest.boot.unknown_url);
  if (o.node) {
    if (!reqs.some((r) => r.path === own && r.status === 200)) p.push(`nginx never answered 200 for the node's script ${own}`);
    if (reqs.some((r) => r.path === unknown)) p.push('a known node fetched unknown.ipxe');
  } else {
    if (!reqs.some((r) => r.path === own && r.status === 404)) p.push(`nginx did not answer 404 for the unknown MAC's ${own}`);
    if (!reqs.some((r) => r.path === unknown && r.status === 200)) p.push('unknown.ipxe was never served');
  }
  const others = reqs.filter((r) => r.path.startsWith(`${prefixOf(tree)}/ipxe/`) && r.path !== own);
  if (others.length) p.push(`fetched other MACs' scripts: ${others.map((r) => r.path).join(', ')}`);
  return p;
}

/** Firmware path checks: PXE over TFTP, HTTP boot from nginx, or no DHCP server at all. */
function viaProblems(c: LifecycleCase, o: Outcome, reqs: ReturnType<typeof requests>): string[] {
  const p: string[] = [];
  const sentTftp = [...o.dnsmasq.matchAll(/sent (\S+) to (\S+)/g)].map((m) => m[1]!);
  const loaderPath = `${prefixOf(o.tree)}/snponly.efi`;
  if (o.tree.manifest.boot.firmware === 'uefi' && c.via === 'pxe') {
    const loader = uefiLoaderOf(o.tree);
    if (!sentTftp.some((f) => f.endsWith(`/${loader}`) || f === loader))
      p.push(`dnsmasq never sent ${loader} over TFTP (firmware PXE path not taken)`);
  }
  if (c.via === 'http') {
    if (sentTftp.length) p.push(`dnsmasq sent ${sentTftp.join(', ')} over TFTP during an HTTP boot`);
    const first = reqs[0];
    if (!first || first.path !== loaderPath)
      p.push(
        `the first request was ${first ? `${first.method} ${first.path} (${first.status})` : 'none'}, expected ${loaderPath} from OVMF's HTTP boot`,
      );
    if (!reqs.some((r) => r.method === 'GET' && r.path === loaderPath && r.status === 200))
      p.push(`nginx never answered 200 for GET ${loaderPath}`);
    if (!/HTTPClient/.test(o.dnsmasq)) p.push("dnsmasq's log shows no HTTPClient exchange");
  }
  if (c.via === 'embed') {
    if (o.dnsmasq) p.push('dnsmasq ran in an embed.ipxe lab');
    if (o.udpListeners === undefined || /:67\b/.test(o.udpListeners))
      p.push(`something listens on UDP 67 in the namespace:\n${o.udpListeners ?? '(not checked)'}`);
    if (o.embedFetch?.code === 0) p.push(`nginx served /embed.ipxe (${o.embedFetch.out})`);
    else if (!/404/.test(o.embedFetch?.out ?? '')) p.push(`GET /embed.ipxe did not answer 404: ${o.embedFetch?.out}`);
    const from = new Set(reqs.map((r) => r.ip));
    if (o.node?.ip && (from.size !== 1 || !from.has(o.node.ip)))
      p.push(`iPXE fetched from ${[...from].join(', ') || 'nowhere'}, expected only from the static ${o.node.ip} set by embed.ipxe`);
  }
  return p;
}

/** Everything wrong with a boot that should end on the local disk. */
async function diskProblems(c: LifecycleCase, o: Outcome): Promise<string[]> {
  const { tree, result } = o;
  if (!result) return ['no boot result'];
  const p: string[] = [];
  if (result.timedOut) p.push(`timed out after ${result.ms} ms`);
  if (result.stoppedBecause) p.push(`stopped early: "${result.stoppedBecause}" on the serial console`);
  const s = cleanSerial(result.serial);
  const at = s.indexOf(DISK_MARKER);
  if (at < 0) p.push(`the local disk never booted (no ${DISK_MARKER} on the serial console)`);
  if (/HARVGEN-CMDLINE|Linux version/.test(s)) p.push('a kernel booted (the installer was reached)');
  // The disk booted because the script said so, not before it ran (or instead of the network).
  const script = await scriptOf(o);
  const f = flat(result.serial);
  const fAt = f.indexOf(DISK_MARKER);
  const said = echoes(script.text).filter((e) => f.includes(e));
  if (!said.length)
    p.push(`the serial console never showed a message of ${script.rel} (${echoes(script.text).join(' | ') || 'it echoes nothing'})`);
  else if (fAt >= 0 && !said.some((e) => f.indexOf(e) < fAt)) p.push(`the disk booted before ${script.rel} ran`);
  // Who booted the disk. BIOS: iPXE's sanboot (a bare `exit` would also reach the disk here, as
  // SeaBIOS tries it next, but not on firmware whose PXE stack does not go on). SeaBIOS's serial
  // console flushes lazily, so the end of that line ("0x80") may never reach the log. UEFI: OVMF,
  // after iPXE returned from its PXE entry.
  const by = tree.manifest.boot.firmware === 'bios' ? /Booting from SAN device/ : /BdsDxe: failed to start Boot\w+ "UEFI PXEv4/;
  const byAt = f.search(by);
  if (fAt >= 0 && (byAt < 0 || byAt > fAt))
    p.push(
      tree.manifest.boot.firmware === 'bios'
        ? 'the disk was not booted by iPXE (no "Booting from SAN device" before the marker)'
        : 'the disk was not booted by OVMF after iPXE returned (no failed "UEFI PXEv4" entry before the marker)',
    );
  const reqs = requests(o.access);
  p.push(...(await entryProblems(o, reqs)));
  p.push(...viaProblems(c, o, reqs));
  // Nothing but the entry script, the MAC's script(s) and (UEFI HTTP boot entry) the loader.
  const allowed = new Set([
    pathOf(tree.manifest.boot.entry_url),
    `${prefixOf(tree)}/ipxe/${o.mac.replace(/:/g, '-')}.ipxe`,
    ...(o.node ? [] : [pathOf(tree.manifest.boot.unknown_url)]),
    ...(tree.manifest.boot.firmware === 'uefi' ? [`${prefixOf(tree)}/snponly.efi`] : []),
  ]);
  // An unknown machine under `wait` also reports itself (boot.report): a logged GET, no file.
  const report = `${prefixOf(tree)}/harvgen-discover`;
  const extra = reqs.filter((r) => !allowed.has(r.path) && !(!o.node && r.path.startsWith(`${report}?`) && r.status === 200));
  if (extra.length) p.push(`nginx was asked for ${extra.map((r) => `${r.path} (${r.status})`).join(', ')}; a disk boot needs none of it`);
  // The stand-ins end the VM: the BIOS boot sector through isa-debug-exit (exit 1), GRUB's halt (exit 0).
  const wantExit = tree.manifest.boot.firmware === 'bios' ? 1 : 0;
  if (at >= 0 && result.exitCode !== wantExit) p.push(`QEMU exit ${result.exitCode}, expected ${wantExit} from the disk's stand-in`);
  return p;
}

/** Everything wrong with a boot that should reach the installer. */
async function installProblems(c: LifecycleCase, o: Outcome): Promise<string[]> {
  const { tree, node, result } = o;
  if (!result) return ['no boot result'];
  const p: string[] = [];
  if (result.timedOut) p.push(`timed out after ${result.ms} ms`);
  if (result.stoppedBecause) p.push(`stopped early: "${result.stoppedBecause}" on the serial console`);
  const s = cleanSerial(result.serial);
  if (s.includes(DISK_MARKER)) p.push('the local disk booted');
  const m = markers(result.serial);
  if (!m.cmdline) return [...p, 'the test kernel never reached /init (no HARVGEN-CMDLINE on the serial console)'];
  const server = tree.manifest.boot.server;
  // The config this boot must install with: the node's own, or the site's join config.
  const joinUrl = (tree.manifest.boot as { unknown_config_url?: string }).unknown_config_url ?? `${server}/unknown/join.yaml`;
  if (!node && joinUrl !== `${server}/unknown/join.yaml`)
    p.push(`manifest boot.unknown_config_url is ${joinUrl}, expected ${server}/unknown/join.yaml`);
  const want = node
    ? { url: node.config!.url, rel: node.config!.path, mode: node.role as string, hostname: node.hostname as string | undefined }
    : {
        url: joinUrl,
        rel: tree.manifest.files.find((f) => f.url === joinUrl)?.path ?? 'unknown/join.yaml',
        mode: 'join',
        hostname: undefined,
      };
  const args = m.cmdline.split(/\s+/);
  const input = tree.input as unknown as { boot: { console?: string[] }; cluster: unknown };
  const expectArg = (arg: string, why: string): void => {
    if (!args.includes(arg)) p.push(`kernel command line lacks ${arg} (${why})`);
  };
  expectArg(`harvester.install.config_url=${want.url}`, node ? "the node's own config" : 'the join config for unknown machines');
  expectArg(`root=live:${tree.manifest.artifacts!.rootfs}`, 'the release rootfs');
  expectArg('harvester.install.automatic=true', 'unattended install');
  const consoles = args.filter((a) => a.startsWith('console='));
  const wantConsoles = (input.boot.console ?? ['tty1']).map((x) => `console=${x}`);
  if (consoles.join(' ') !== wantConsoles.join(' '))
    p.push(`consoles ${consoles.join(' ') || '(none)'}, expected ${wantConsoles.join(' ')}`);
  const ipArgs = args.filter((a) => a.startsWith('ip='));
  if (ipArgs.length !== 1) p.push(`expected exactly one ip= argument, got ${ipArgs.join(' ') || 'none'}`);
  else if (node?.method === 'static') {
    const f = ipArgs[0]!.slice(3).split(':');
    const gw = tree.input.network.gateway;
    if (f[0] !== node.ip || f[2] !== gw || !f[3] || f[4] !== node.hostname || !['none', 'off'].includes(f[6] ?? ''))
      p.push(`${ipArgs[0]} is not ip=${node.ip}::${gw}:<mask>:${node.hostname}:<if>:none`);
  } else if (!/^ip=([A-Za-z0-9_.@+-]+:)?dhcp$/.test(ipArgs[0]!)) p.push(`${ipArgs[0]} for a DHCP boot, expected ip=dhcp`);
  if (tree.manifest.boot.firmware === 'uefi' && !args.some((a) => a.startsWith('initrd='))) p.push('UEFI kernel line without initrd=');
  const nicMac = /^HARVGEN-NIC: \S+ ([0-9a-f:]{17})$/m.exec(s)?.[1];
  const bootif = args.filter((a) => a.startsWith('BOOTIF='));
  if (!nicMac) p.push('the guest reported no NIC');
  else {
    if (nicMac !== o.mac) p.push(`the guest's NIC is ${nicMac}, the VM was given ${o.mac}`);
    if (bootif.join(' ') !== `BOOTIF=01-${nicMac.replace(/:/g, '-')}`)
      p.push(`${bootif.join(' ') || 'no BOOTIF'}, expected BOOTIF=01-${nicMac.replace(/:/g, '-')}`);
  }
  for (const secret of clusterSecrets(tree)) {
    if (m.cmdline.includes(secret)) p.push('a cluster secret is on the kernel command line');
  }
  const ipLine = m.lines.find((l) => l.startsWith('HARVGEN-IP:')) ?? '';
  if (node?.ip) {
    if (!ipLine.includes(`inet ${node.ip}/`)) p.push(`guest address: "${ipLine}", expected ${node.ip}`);
  } else {
    // An unknown machine leases from the pool.
    const [lo, hi] = (tree.input.network as { dhcp_range?: string }).dhcp_range?.split('-') ?? [];
    const got = /inet (\d+\.\d+\.\d+\.(\d+))\//.exec(ipLine);
    const last = (ip?: string): number => Number(ip?.split('.')[3]);
    if (!got || !lo || !hi || Number(got[2]) < last(lo) || Number(got[2]) > last(hi))
      p.push(`guest address: "${ipLine}", expected one from the pool ${lo}-${hi}`);
  }
  const rc = m.lines.find((l) => l.startsWith('HARVGEN-FETCH-RC:'));
  if (rc !== 'HARVGEN-FETCH-RC: 0') p.push(`config fetch: ${rc ?? 'never attempted'}`);
  const wantBytes = await readFile(path.join(tree.dir, want.rel)).catch(() => undefined);
  if (!wantBytes) p.push(`the tree has no ${want.rel}`);
  if (!m.config) p.push('no config printed on the serial console');
  else if (wantBytes && !m.config.equals(wantBytes)) p.push(`the guest fetched a config that differs from ${want.rel}`);
  if (wantBytes && m.sha !== createHash('sha256').update(wantBytes).digest('hex')) p.push(`sha256 in the guest ${m.sha} != ${want.rel}`);
  if (m.config) {
    const cfg = parseYaml(m.config.toString('utf8')) as { install?: { mode?: string }; os?: { hostname?: string } };
    if (cfg.install?.mode !== want.mode) p.push(`fetched config has install.mode ${cfg.install?.mode}, expected ${want.mode}`);
    if (cfg.os?.hostname !== want.hostname)
      p.push(`fetched config has os.hostname ${cfg.os?.hostname}, expected ${want.hostname ?? 'none (the installer names the machine)'}`);
  }
  const reqs = requests(o.access);
  p.push(...(await entryProblems(o, reqs)));
  for (const url of [tree.manifest.artifacts!.kernel, tree.manifest.artifacts!.initrd, want.url]) {
    if (!reqs.some((r) => r.path === pathOf(url) && r.status === 200)) p.push(`nginx never answered 200 for ${pathOf(url)}`);
  }
  p.push(...viaProblems(c, o, reqs));
  // The install-once probe ran and failed (iPXE's own messages, not the script's).
  const probes = node?.state === 'install-once' || (!node && manifestOf(tree).boot.unknown === 'join');
  if (probes && c.mutation === undefined) {
    if (c.key === 'bios' && !/SAN device 0x80/.test(s))
      p.push('no sanboot attempt on drive 0x80 on the serial console (the install-once probe did not run)');
    if (c.key !== 'bios' && !/Could not start download|file:\/\//.test(s))
      p.push('no file:// fetch attempt on the serial console (the install-once probe did not run)');
  }
  if (result.exitCode !== 0) p.push(`QEMU exit ${result.exitCode} (the guest did not power off by itself)`);
  return p;
}

function report(o: Outcome): string {
  const r = o.result;
  const serial = r ? cleanSerial(r.serial).split('\n') : [];
  return [
    `site ${o.tree.label}, MAC ${o.mac}${o.node ? `, node ${o.node.hostname} (state ${o.node.state})` : ' (unknown)'}, disk ${o.disk ?? 'none'}`,
    r
      ? `QEMU: ${r.cmd}\n  exit ${r.exitCode}, ${r.ms} ms${r.timedOut ? ', TIMED OUT' : ''}${r.stoppedBecause ? `, stopped: ${r.stoppedBecause}` : ''}\n${r.qemuOutput.trim()}`
      : '',
    `--- serial console (last 250 of ${serial.length} lines) ---`,
    serial.slice(-250).join('\n'),
    '--- nginx access log ---',
    o.access.trim(),
    '--- dnsmasq log (last 60 lines) ---',
    o.dnsmasq.trim().split('\n').slice(-60).join('\n') || '(no dnsmasq)',
    ...(o.udpListeners !== undefined ? [`--- UDP listeners in the namespace ---\n${o.udpListeners.trim() || '(none)'}`] : []),
  ].join('\n');
}

/** Programs every case needs (the trees are only built after this). */
function programsPresent(key: Key): boolean {
  const fetch = existsSync(path.join(KERNEL_DIR, 'VERSION')) ? [] : ['apt-get', 'dpkg-deb'];
  return (
    requireProgram('qemu-system-x86_64', 'nginx', 'dnsmasq', 'ip', 'ss', 'socat', 'cpio', '/bin/busybox', ...fetch) &&
    requireProgram(
      '/usr/lib/ipxe/qemu/pxe-virtio.rom',
      '/usr/lib/ipxe/undionly.kpxe',
      '/usr/lib/ipxe/ipxe.efi',
      '/usr/lib/ipxe/snponly.efi',
      '/usr/lib/ipxe/ipxe.lkrn',
    ) &&
    (key === 'bios' || requireProgram('/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd', ...UEFI_DISK_PROGRAMS)) &&
    requireRoot()
  );
}

test('manifest.json records the lifecycle: node states and boot.unknown of both fixtures', async () => {
  if (!programsPresent('bios')) return;
  const t = await getLifecycleTrees();
  const states = (k: Key) => Object.fromEntries(manifestOf(t[k]).nodes.map((n) => [n.hostname, n.state]));
  assert.equal(states('bios'), { 'lb-once': 'install-once', 'lb-local': 'local' });
  assert.equal(states('uefi'), { 'lu-once': 'install-once', 'lu-local': 'local', 'lu-http': 'install' });
  assert.is(manifestOf(t.bios).boot.unknown, 'local');
  assert.is(manifestOf(t.uefi).boot.unknown, 'join');
});

test('the UEFI fixture copies Debian iPXE binaries byte for byte and serves them; embed.ipxe and the join config are where the boots look', async () => {
  if (!programsPresent('uefi')) return;
  const t = await getLifecycleTrees();
  const m = manifestOf(t.uefi);
  const p: string[] = [];
  for (const f of ['snponly.efi', 'ipxe.efi', 'undionly.kpxe']) {
    const got = await readFile(path.join(t.uefi.dir, f)).catch(() => undefined);
    if (!got) p.push(`no ${f} at the tree root`);
    else if (!got.equals(await readFile(path.join(IPXE_DIR, f)))) p.push(`${f} differs from ${IPXE_DIR}/${f}`);
    const entry = m.files.find((x) => x.path === f);
    if (entry?.url !== `${m.boot.server}/${f}`) p.push(`manifest: ${f} has url ${entry?.url}, expected ${m.boot.server}/${f}`);
  }
  const join = m.files.find((x) => x.path === 'unknown/join.yaml');
  if (join?.url !== `${m.boot.server}/unknown/join.yaml`) p.push(`manifest: unknown/join.yaml has url ${join?.url}`);
  for (const k of ['bios', 'uefi'] as const) {
    const e = manifestOf(t[k]).files.find((x) => x.path === 'embed.ipxe');
    if (!e) p.push(`${k}: manifest lists no embed.ipxe`);
    else if (e.url) p.push(`${k}: embed.ipxe has a url (${e.url}); it is built into an ISO, not served`);
  }
  const conf = await readFile(path.join(t.uefi.dir, 'dnsmasq/harvgen.conf'), 'utf8');
  const lines = conf.split('\n');
  const loaderUrl = `${m.boot.server}/snponly.efi`;
  const wanted: [string, (l: string) => boolean][] = [
    ['dhcp-vendorclass=set:<tag>,HTTPClient:Arch:00016', (l) => /^dhcp-vendorclass=set:[^,]+,HTTPClient:Arch:00016$/.test(l)],
    ['dhcp-option-force=tag:<tag>,...,60,HTTPClient', (l) => /^dhcp-option-force=tag:\S+,60,HTTPClient$/.test(l)],
    [`dhcp-boot=tag:<tag>,...,${loaderUrl}`, (l) => l.startsWith('dhcp-boot=tag:') && l.endsWith(`,${loaderUrl}`)],
  ];
  for (const [what, ok] of wanted) if (!lines.some(ok)) p.push(`dnsmasq/harvgen.conf has no line ${what}`);
  assert.equal(p, [], `${p.join('\n')}\n--- dnsmasq/harvgen.conf ---\n${conf}`);
});

for (const c of SELECTED) {
  test(c.title, async () => {
    if (!programsPresent(c.key)) return;
    const o = await outcome(c.id);
    if (o.result)
      console.log(
        `  boot ${c.id}: ${(o.result.ms / 1000).toFixed(1)} s${o.result.stoppedBecause ? ` (stopped: ${o.result.stoppedBecause})` : ''}`,
      );
    for (const n of notes(o)) console.log(`  note ${c.id}: ${n}`);
    if (o.error)
      throw new Error(`${c.id}: the boot lab failed: ${o.error instanceof Error ? o.error.stack : String(o.error)}\n${report(o)}`);
    if (c.mutation === 'unknown-shell') {
      const p = await diskProblems(c, o);
      assert.ok(p.length > 0, `${c.id}: a machine left at iPXE's prompt went unnoticed:\n${report(o)}`);
      assert.ok(
        !cleanSerial(o.result?.serial ?? '').includes(DISK_MARKER) &&
          (o.result?.stoppedBecause === AT_PROMPT || o.result?.timedOut === true),
        `${c.id}: expected the machine to stay at iPXE's prompt; problems:\n  ${p.join('\n  ')}\n${report(o)}`,
      );
      assert.ok(
        echoes(await readFile(path.join(o.tree.dir, 'unknown.ipxe'), 'utf8')).some((e) => flat(o.result!.serial).includes(e)),
        `${c.id}: unknown.ipxe never ran, so the hang proves nothing:\n${report(o)}`,
      );
      return;
    }
    if (c.mutation) {
      const p = await diskProblems(c, o);
      assert.ok(p.length > 0, `${c.id}: removing sanboot went unnoticed:\n${report(o)}`);
      assert.ok(
        markers(o.result?.serial ?? '').cmdline !== undefined,
        `${c.id}: expected the installer to be reached over the bootable disk; problems:\n  ${p.join('\n  ')}\n${report(o)}`,
      );
      return;
    }
    const p = c.expect === 'disk' ? await diskProblems(c, o) : await installProblems(c, o);
    assert.equal(p, [], `${c.id}: the boot went wrong:\n  ${p.join('\n  ')}\n${report(o)}`);
  });
}

test.run();
