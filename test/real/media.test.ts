// Boot media (`medium: iso`, `medium: usb`, docs/install-without-pxe.md) booted for real, with no
// DHCP server on the nodes' segment. Both nodes of the fixture share one image (`media/shared.boot.iso`,
// the table of both): each boot finds its node by its MAC. A third machine, whose MAC is in no
// table, boots the same image and is told so, asking nothing of the network. The USB image
// (`media/shared.boot.img`, a hybrid of the ISO with an MBR and an EFI system partition) boots
// both firmwares from a USB stick. Per boot: a fresh network namespace whose tap holds the nodes' gateway
// (10.0.5.1/24) and the boot server's own address on another network (10.0.9.5/24), the generated
// nginx server block on that address, no dnsmasq, and a DHCP witness: a UDP listener on port 67
// that logs every DHCP packet it gets and answers none. QEMU boots the node's ISO from a CD drive
// (a BMC's virtual CD) with the node's MAC on the tap, the NIC in no boot order: on UEFI, OVMF then
// connects only the CD, as after a BMC's one-time boot from its virtual CD. Both firmwares run
// the ISO's iPXE script, then the node's own script from the boot server:
//   UEFI: OVMF -> El Torito (0xEF) -> the FAT image's ipxe.efi (its own NIC driver) -> autoexec.ipxe;
//   BIOS: SeaBIOS -> El Torito -> ISOLINUX -> ipxe.lkrn with the ISO's script as its initrd.
// The test initramfs then configures the network from the kernel's `ip=` (a static address: no
// DHCP here either) and fetches the node's Harvester config or NoCloud seed, as the boot tests do.
// Retries that retry: a boot server that cuts the initrd short, answers 404 for the initrd until
// the node's script has given up, or 404 for the kernel once (test/real/helpers/flaky-http.mjs);
// each boot still ends with the node's own command line and its config.
// The mutations: the ISO with another gateway written into it (same length) reaches nothing; the
// GRUB medium harvgen wrote before (GRUB retrying `linux` and `initrd` in a loop) boots the kernel
// with a lost command line after a cut initrd; snponly.efi, which drives only a NIC the firmware
// connected, as the UEFI loader finds no NIC.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { fatImage } from '../../src/formats/fat.ts';
import { isoImage } from '../../src/formats/iso9660.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab, type Lab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { flat, markers, requests, selectedCases } from './helpers/boot-log.ts';
import { dhcpWitness } from './helpers/dhcp.ts';
import { FETCHED_IPXE, mediaLoaders, mediaLoadersAvailable } from './helpers/media-loaders.ts';
import { nodeBootProblems } from './helpers/node-boot.ts';
import { describe, run, startDaemon, type Daemon } from './helpers/proc.ts';
import { tempDir } from '../helpers/tmp.ts';
import { strictUsbImage, type StrictUsb } from './helpers/usb-image.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/media');
const GATEWAY = '10.0.5.1';
/** Hard limits per boot (two run at once on 2 cores, TCG); a boot that waits out the node's give-up takes longer. */
const LIMIT_MS = { bios: 120_000, uefi: 180_000 } as const;
const RETRY_LIMIT_MS = 240_000;
/** Where the flaky server listens in the lab's namespace (nginx hands it the planned paths). */
const FLAKY_PORT = 8099;

type Firmware = 'bios' | 'uefi';

/** What the boot server does wrong at first, for one release file of the Harvester node. */
interface Fault {
  file: 'kernel' | 'initrd';
  /** The first `cut` answers end after half the body with a reset; the first `missing` are 404. */
  cut?: number;
  missing?: number;
}

interface MediaCase {
  id: string;
  firmware: Firmware;
  hostname: 'hv-m1' | 'os-m1';
  /** The boot server misbehaves first; the boot must still end with the node's config. */
  fault?: Fault;
  /** Write another gateway into the ISO (the mutation): the boot must fail. */
  wrongGateway?: true;
  /** The GRUB medium harvgen wrote before, with its retry loop (the mutation): a cut initrd loses the command line. */
  grubRetry?: true;
  /** The same GRUB medium with the NIC in no boot order (the mutation): GRUB's efinet finds no card. */
  grubNoNic?: true;
  /** snponly.efi as the UEFI loader (the mutation): with the NIC unconnected by the firmware, no NIC is found. */
  snponly?: true;
  /** The site's USB image (`medium: usb`) as a USB stick, in place of the ISO in a CD drive. */
  usb?: true;
  /** The USB image as a firmware that finds the EFI system partition in a GPT alone boots it, or a mutation of its GPT (helpers/usb-image.ts). */
  strictUsb?: StrictUsb;
  /** A machine whose MAC is in no table boots the shared image: told so, it asks nothing of the network. */
  unknownMac?: string;
  title: string;
}

const CASES: MediaCase[] = [
  {
    id: 'uefi-harvester',
    firmware: 'uefi',
    hostname: 'hv-m1',
    title:
      "UEFI (OVMF, only the CD connected): the Harvester node's ISO runs its script, boots its installer command line and fetches its config, no DHCP",
  },
  {
    id: 'uefi-os',
    firmware: 'uefi',
    hostname: 'os-m1',
    title:
      "UEFI (OVMF, only the CD connected): the generic node's ISO boots its kernel with a static ip= and fetches its NoCloud seed, no DHCP",
  },
  {
    id: 'bios-harvester',
    firmware: 'bios',
    hostname: 'hv-m1',
    title: "BIOS (SeaBIOS): the Harvester node's ISO runs its own script, boots the installer and fetches its config, no DHCP",
  },
  {
    id: 'bios-os',
    firmware: 'bios',
    hostname: 'os-m1',
    title: "BIOS (SeaBIOS): the generic node's ISO boots its kernel with a static ip= and fetches its NoCloud seed, no DHCP",
  },
  {
    id: 'uefi-initrd-cut',
    firmware: 'uefi',
    hostname: 'hv-m1',
    fault: { file: 'initrd', cut: 1 },
    title: "UEFI: a connection cut during the initrd is tried again, and the installer still gets the node's command line and config",
  },
  {
    id: 'bios-initrd-404-later',
    firmware: 'bios',
    hostname: 'hv-m1',
    fault: { file: 'initrd', missing: 3 },
    title:
      "BIOS: an initrd answered 404 is never booted; the node's script gives up after 3 tries, the medium tries again, and boots once it is there",
  },
  {
    id: 'uefi-kernel-404-later',
    firmware: 'uefi',
    hostname: 'hv-m1',
    fault: { file: 'kernel', missing: 1 },
    title: "UEFI: a kernel answered 404 is tried again, and the boot ends with the node's command line and config",
  },
  {
    id: 'uefi-unknown',
    firmware: 'uefi',
    hostname: 'hv-m1',
    unknownMac: '52:54:00:4d:00:99',
    title: 'UEFI: a machine whose MAC is in no table boots the shared ISO, is told so on its console and asks nothing of the network',
  },
  {
    id: 'bios-unknown',
    firmware: 'bios',
    hostname: 'hv-m1',
    unknownMac: '52:54:00:4d:00:98',
    title: 'BIOS: a machine whose MAC is in no table boots the shared ISO, is told so on its console and asks nothing of the network',
  },
  {
    id: 'uefi-usb',
    firmware: 'uefi',
    hostname: 'hv-m1',
    usb: true,
    title:
      "UEFI (OVMF, only the USB stick connected): the shared USB image boots the Harvester node's installer with its command line and config, no DHCP",
  },
  {
    id: 'bios-usb',
    firmware: 'bios',
    hostname: 'os-m1',
    usb: true,
    title: "BIOS (SeaBIOS): the shared USB image boots the generic node's kernel with a static ip= and its NoCloud seed, no DHCP",
  },
  {
    id: 'uefi-usb-gpt',
    firmware: 'uefi',
    hostname: 'hv-m1',
    usb: true,
    strictUsb: 'gpt',
    title:
      "UEFI (OVMF, its El Torito reading of a disk left out): the USB image boots from its GPT's EFI system partition alone, to the node's installer and config",
  },
  {
    id: 'uefi-usb-bad-gpt-crc',
    firmware: 'uefi',
    hostname: 'hv-m1',
    usb: true,
    strictUsb: 'bad-gpt-crc',
    title: "mutation: with both GPT headers' CRCs wrong, OVMF (El Torito left out) finds no EFI system partition on the USB image",
  },
  {
    id: 'uefi-usb-no-protective-mbr',
    firmware: 'uefi',
    hostname: 'hv-m1',
    usb: true,
    strictUsb: 'no-protective-mbr',
    title: 'mutation: without the protective MBR, OVMF (El Torito left out) does not read the GPT and finds no EFI system partition',
  },
  {
    id: 'uefi-wrong-gateway',
    firmware: 'uefi',
    hostname: 'hv-m1',
    wrongGateway: true,
    title: 'mutation: a UEFI ISO with a wrong gateway reaches nothing',
  },
  {
    id: 'bios-wrong-gateway',
    firmware: 'bios',
    hostname: 'hv-m1',
    wrongGateway: true,
    title: 'mutation: a BIOS ISO with a wrong gateway reaches nothing',
  },
  {
    id: 'uefi-grub-retry',
    firmware: 'uefi',
    hostname: 'hv-m1',
    fault: { file: 'initrd', cut: 1 },
    grubRetry: true,
    title:
      "mutation: the GRUB medium harvgen wrote before retries a cut initrd and boots the kernel without the node's command line (or the firmware faults)",
  },
  {
    id: 'uefi-grub-no-nic',
    firmware: 'uefi',
    hostname: 'hv-m1',
    grubNoNic: true,
    title: 'mutation: the GRUB medium harvgen wrote before finds no NIC when the firmware connected only the CD',
  },
  {
    id: 'uefi-snponly',
    firmware: 'uefi',
    hostname: 'hv-m1',
    snponly: true,
    title: 'mutation: snponly.efi as the UEFI loader finds no NIC when the firmware connected only the CD',
  },
];

/** What one boot left behind. */
interface Outcome {
  tree: SiteTree;
  iso: string;
  result?: BootResult;
  access: string;
  dhcp: string;
  flaky: string;
  error?: unknown;
}

/** The site built for one firmware (and medium), with the loaders made from Debian's packages. */
async function siteFor(firmware: Firmware, loaders: string, medium: 'iso' | 'usb' = 'iso'): Promise<SiteTree> {
  const label = `${firmware}-${medium}`;
  const dir = path.join(tempDir(`media-${label}`), 'site');
  await cp(FIXTURE, dir, { recursive: true });
  const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as {
    boot: Record<string, unknown>;
    defaults: Record<string, unknown>;
  };
  doc.boot.media_loaders = loaders;
  doc.boot.firmware = firmware;
  doc.defaults.medium = medium;
  await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
  return (await buildFixtureTrees(`media-${label}`, { site: dir })).site;
}

/** The image `hostname` boots in `tree` (its manifest entry: the medium's shared image). */
function isoPath(tree: SiteTree, hostname: string): string {
  const medium = tree.manifest.nodes.find((n) => n.hostname === hostname)?.medium;
  if (!medium || !tree.manifest.files.some((f) => f.path === medium.path))
    throw new Error(`${tree.label}: manifest.json lists no image of ${hostname}`);
  return path.join(tree.dir, medium.path);
}

/** A copy of `iso` with every occurrence of the gateway replaced by another address of the same length. */
async function withWrongGateway(iso: string): Promise<string> {
  const bytes = await readFile(iso);
  const from = Buffer.from(GATEWAY);
  const to = Buffer.from('10.0.5.9');
  let n = 0;
  for (let i = bytes.indexOf(from); i >= 0; i = bytes.indexOf(from, i + 1)) {
    // Only the address itself (not 10.0.5.1x): the byte after it is no digit.
    if (bytes[i + from.length]! >= 0x30 && bytes[i + from.length]! <= 0x39) continue;
    to.copy(bytes, i);
    n++;
  }
  if (n === 0) throw new Error(`mutation did not apply: ${GATEWAY} is nowhere in ${iso}`);
  const out = path.join(tempDir('media-mutant'), path.basename(iso));
  await writeFile(out, bytes);
  return out;
}

/**
 * The GRUB medium harvgen wrote before for a UEFI node (its grub.cfg retried `linux` and `initrd`
 * in a loop): GRUB from grub-mkimage with the modules that config needed, its config in the FAT
 * image, the kernel line of the node's own script (less iPXE's initrd= names).
 */
async function grubMedium(tree: SiteTree, hostname: string): Promise<string> {
  const node = tree.manifest.nodes.find((n) => n.hostname === hostname)!;
  const mac = node.macs[0]!;
  const script = await readFile(path.join(tree.dir, `ipxe/${mac.replace(/:/g, '-')}.ipxe`), 'utf8');
  const [kernelUrl, ...args] = /^kernel --name vmlinuz (.*) \|\| goto failed$/m.exec(script)![1]!.split(' ');
  const initrdUrl = /^initrd --name \S+ (\S+) \|\| goto failed$/m.exec(script)![1]!;
  const grubPath = (url: string) => url.replace(/^http:\/\/([^/]+)/, '(http,$1)');
  const q = (v: string) => `'${v}'`;
  const cfg = [
    'set timeout=0',
    `net_add_addr harvgen efinet0 ${q(node.ip!)}`,
    "net_del_route 'harvgen:local'",
    "net_add_route harvgen_lan '10.0.5.0/24' harvgen",
    `net_add_route harvgen_default 0.0.0.0/0 gw ${q(GATEWAY)}`,
    'while [ 1 = 1 ]; do',
    `  if linux ${q(grubPath(kernelUrl!))} ${args
      .filter((a) => !a.startsWith('initrd='))
      .map(q)
      .join(' ')}; then`,
    `    if initrd ${q(grubPath(initrdUrl))}; then boot; fi`,
    '  fi',
    "  echo 'harvgen: could not load the boot files; trying again in 5 s'",
    '  sleep 5',
    'done',
    '',
  ].join('\n');
  const dir = tempDir('media-grub');
  const grub = path.join(dir, 'bootx64.efi');
  const modules = ['normal', 'configfile', 'echo', 'test', 'sleep', 'minicmd', 'linux', 'efinet', 'http', 'net', 'fat', 'iso9660'];
  const r = await run(['grub-mkimage', '-O', 'x86_64-efi', '-p', '/EFI/BOOT', '-o', grub, ...modules]);
  if (r.code !== 0) throw new Error(`grub-mkimage failed: ${describe(r)}`);
  const efi = fatImage([
    { path: 'EFI/BOOT/BOOTX64.EFI', bytes: await readFile(grub) },
    { path: 'EFI/BOOT/GRUB.CFG', bytes: Buffer.from(cfg) },
  ]);
  const iso = path.join(dir, `${hostname}-grub.iso`);
  // The same config on the CD itself, as before: GRUB takes the whole CD as its device, not the FAT image.
  const files = [
    { path: 'efi.img', bytes: efi },
    { path: 'EFI/BOOT/GRUB.CFG', bytes: Buffer.from(cfg) },
  ];
  await writeFile(iso, isoImage({ volumeId: 'HARVGEN', files, efiBoot: { path: 'efi.img' } }));
  return iso;
}

const SELECTED = selectedCases(CASES, 'HARVGEN_MEDIA_ONLY');

/**
 * The node's ISO with iPXE's `snponly.efi` as its UEFI loader (which harvgen refuses to build:
 * BOOT_MEDIA_LOADER_INVALID), made by the test from the built ISO's own script.
 */
async function snponlyMedium(tree: SiteTree, hostname: string): Promise<string> {
  const dir = tempDir('media-snponly');
  const script = path.join(dir, 'node.ipxe');
  const x = await run(['xorriso', '-osirrox', 'on', '-indev', isoPath(tree, hostname), '-extract', '/ISOLINUX/NODE.IPXE', script]);
  if (x.code !== 0) throw new Error(`xorriso could not extract the ISO's script: ${describe(x)}`);
  const efi = fatImage([
    { path: 'EFI/BOOT/BOOTX64.EFI', bytes: await readFile(path.join(FETCHED_IPXE, 'snponly.efi')) },
    { path: 'autoexec.ipxe', bytes: await readFile(script) },
  ]);
  const iso = path.join(dir, `${hostname}-snponly.iso`);
  await writeFile(iso, isoImage({ volumeId: 'HARVGEN', files: [{ path: 'efi.img', bytes: efi }], efiBoot: { path: 'efi.img' } }));
  return iso;
}

const outcome = lazyBoots(
  SELECTED,
  async () => {
    const kernel = await ensureKernel();
    const loaders = await mediaLoaders();
    const initrd = await buildInitramfs(kernel);
    const trees = { bios: await siteFor('bios', loaders), uefi: await siteFor('uefi', loaders) };
    const usb = SELECTED.some((c) => c.usb)
      ? { bios: await siteFor('bios', loaders, 'usb'), uefi: await siteFor('uefi', loaders, 'usb') }
      : undefined;
    return { kernel: kernel.vmlinuz, initrd, trees, usb };
  },
  (c, { kernel, initrd, trees, usb }) => runCase(c, (c.usb ? usb! : trees)[c.firmware], { kernel, initrd }),
);

/** The path of the release file a fault is about. */
function faultyPath(tree: SiteTree, fault: Fault): string {
  const release = tree.manifest.artifacts!;
  return new URL(fault.file === 'kernel' ? release.kernel : release.initrd).pathname;
}

/** The flaky server of a case's fault, in the lab's namespace. */
async function startFlaky(lab: Lab, fault: Fault, artifacts: { kernel: string; initrd: string }): Promise<Daemon> {
  const plan = path.join(lab.workDir, 'flaky.json');
  const entry = { file: artifacts[fault.file], cut: fault.cut, missing: fault.missing };
  await writeFile(plan, JSON.stringify({ [faultyPath(lab.tree, fault)]: entry }));
  const script = path.join(REPO_ROOT, 'test/real/helpers/flaky-http.mjs');
  const d = startDaemon('flaky-http', lab.ns.exec([process.execPath, script, String(FLAKY_PORT), plan]));
  for (let i = 0; i < 50 && !d.output().includes('FLAKY listening'); i++) await new Promise((r) => setTimeout(r, 100));
  if (!d.output().includes('FLAKY listening')) throw new Error(`the flaky server did not start: ${d.output()}`);
  return d;
}

async function runCase(c: MediaCase, tree: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const built =
    c.grubRetry || c.grubNoNic
      ? await grubMedium(tree, c.hostname)
      : c.snponly
        ? await snponlyMedium(tree, c.hostname)
        : isoPath(tree, c.hostname);
  const iso = c.wrongGateway ? await withWrongGateway(built) : c.strictUsb ? await strictUsbImage(built, c.strictUsb) : built;
  const node = tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const out: Outcome = { tree, iso, access: '', dhcp: '', flaky: '' };
  const fails = c.wrongGateway || c.snponly || c.grubNoNic || c.unknownMac !== undefined || (c.strictUsb && c.strictUsb !== 'gpt');
  try {
    await withLab(
      tree,
      artifacts,
      async (lab) => {
        const witness = dhcpWitness(lab.ns);
        const flaky = c.fault ? await startFlaky(lab, c.fault, artifacts) : undefined;
        try {
          out.result = await bootVm({
            firmware: c.firmware,
            mac: c.unknownMac ?? node.macs[0]!,
            ns: lab.ns,
            tap: lab.tap,
            workDir: lab.workDir,
            timeoutMs: fails ? 75_000 : c.fault?.missing ? RETRY_LIMIT_MS : LIMIT_MS[c.firmware],
            ...(c.usb ? { usbDisk: iso } : { cdrom: iso }),
            // GRUB's efinet drives only a NIC the firmware connected: the old medium had it in the boot order.
            nicInBootOrder: c.grubRetry,
            stopWhen: (raw) => {
              const s = cleanSerial(raw);
              for (const fatal of ['Kernel panic', 'HARVGEN-ERROR', 'Shell> ', 'grub> ']) if (s.includes(fatal)) return fatal;
              // The GRUB mutant's kernel may have no ip= to go on with: it is enough that it booted.
              if (c.grubRetry && /^HARVGEN-CMDLINE:/m.test(s)) return 'the kernel booted';
              // When GRUB saw the cut as a timeout, its second `linux` hands the firmware a kernel that faults.
              if (c.grubRetry && /X64 Exception/.test(s)) return 'the firmware faulted';
              if (c.grubNoNic && /card not found/.test(s)) return 'card not found';
              // The unknown machine's last word; it then sleeps for ever.
              if (c.unknownMac && /it boots nothing from this medium/.test(flat(raw))) return 'told it is no node';
              return undefined;
            },
          });
        } finally {
          await witness.stop();
          out.dhcp = witness.output();
          await flaky?.stop();
          out.flaky = flaky?.output() ?? '';
        }
        out.access = await lab.accessLog();
      },
      {
        dnsmasq: false,
        addresses: [`${GATEWAY}/24`],
        serve: { '/real_media/os/vmlinuz': artifacts.kernel, '/real_media/os/initrd.img': artifacts.initrd },
        ...(c.fault ? { proxy: { [faultyPath(tree, c.fault)]: FLAKY_PORT } } : {}),
      },
    );
  } catch (err) {
    out.error = err;
  }
  return out;
}

/** Everything wrong with a boot that should have worked. */
async function problems(c: MediaCase, o: Outcome): Promise<string[]> {
  const p: string[] = [];
  const r = o.result;
  if (o.error) return [`lab failed: ${String(o.error)}`];
  if (!r) return ['no boot result'];
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  if (r.stoppedBecause) p.push(`stopped early: "${r.stoppedBecause}"`);
  if (/DHCP-PACKET/.test(o.dhcp) && !/DHCP-WITNESS listening/.test(o.dhcp)) p.push('the DHCP witness did not start');
  return [...p, ...(await nodeBootProblems(o.tree, c.hostname, r.serial, GATEWAY))];
}

/** What to print when a boot went wrong. */
function report(o: Outcome, found: string[]): string {
  const r = o.result;
  return [
    `${found.length} problem(s):`,
    ...found.map((f) => `  - ${f}`),
    `ISO: ${o.iso}`,
    o.error ? `error: ${o.error instanceof Error ? (o.error.stack ?? o.error.message) : String(o.error)}` : '',
    r ? `QEMU: ${r.cmd}\nserial (last 4000 chars):\n${cleanSerial(r.serial).slice(-4000)}\nqemu: ${r.qemuOutput.slice(-1000)}` : '',
    `nginx access log:\n${o.access}`,
    `flaky server:\n${o.flaky}`,
    `DHCP witness:\n${o.dhcp}`,
  ].join('\n');
}

const ready = (c: MediaCase) =>
  requireRoot() &&
  mediaLoadersAvailable() &&
  requireProgram('qemu-system-x86_64', 'nginx', 'ip', '/usr/share/OVMF/OVMF_CODE_4M.fd') &&
  (!c.usb || requireProgram('/usr/lib/ISOLINUX/isohdpfx.bin')) &&
  (!(c.grubRetry || c.grubNoNic) || requireProgram('grub-mkimage')) &&
  (!c.snponly || requireProgram('xorriso'));

for (const c of SELECTED) {
  test(c.title, async () => {
    if (!ready(c)) return;
    const o = await outcome(c.id);
    assert.ok(o.result && !o.error, report(o, ['no boot result']));
    // No DHCP server ran, and nothing answered DHCP: the witness logs what it got and sends nothing.
    assert.ok(/DHCP-WITNESS listening/.test(o.dhcp), `the DHCP witness did not listen:\n${o.dhcp}`);
    if (c.unknownMac) {
      // Told on its console which of its NICs it has, and that it is no node of the table.
      const serial = flat(o.result!.serial);
      assert.match(
        serial,
        /harvgen: this machine is no node of this boot ISO \(site real_media\): none of its NICs has a boot MAC of its table/,
        report(o, ['no message']),
      );
      // (iPXE's echo joins its words with one space.)
      assert.match(serial, `harvgen: net0 ${c.unknownMac}`, report(o, ['its NIC is not listed']));
      assert.is(o.result!.stoppedBecause, 'told it is no node', report(o, ['it did not stop at the message']));
      // It asked nothing: no DHCP packet, no request to the boot server, no address set.
      assert.not.match(o.dhcp, /DHCP-PACKET/, report(o, ['it sent DHCP']));
      assert.equal(requests(o.access), [], report(o, ['it asked the boot server']));
      assert.not.match(serial, /static address/, report(o, ["it took a node's address"]));
      return;
    }
    if (c.strictUsb && c.strictUsb !== 'gpt') {
      // The firmware found no EFI system partition: it says it could not load from the USB disk and
      // ends in its shell; iPXE never started, nothing was asked of the boot server.
      assert.match(
        cleanSerial(o.result!.serial),
        /BdsDxe: failed to load Boot\d+ "UEFI QEMU QEMU USB HARDDRIVE[^"]*" from [^\n]*: Not Found/,
        report(o, ['OVMF did not say it found nothing to boot on the USB disk']),
      );
      assert.is(o.result!.stoppedBecause, 'Shell> ', report(o, ['OVMF did not end in its shell']));
      assert.is(markers(o.result!.serial).cmdline, undefined, report(o, ['a kernel booted']));
      assert.not.match(cleanSerial(o.result!.serial), /iPXE initialising devices/, report(o, ['the firmware started iPXE']));
      assert.equal(requests(o.access), [], report(o, ['it asked the boot server']));
      return;
    }
    if (c.wrongGateway || c.snponly || c.grubNoNic) {
      const m = markers(o.result!.serial);
      const fetched = requests(o.access).filter((q) => q.status === 200);
      assert.is(m.cmdline, undefined, report(o, ['a kernel booted']));
      assert.is(fetched.length, 0, report(o, ['the boot server answered the node']));
      // The ISO's script ran and said why it goes on waiting (a broken ISO would say nothing).
      if (c.wrongGateway)
        assert.match(
          flat(o.result!.serial),
          /harvgen: no NIC of its node reached http:\/\/10\.0\.9\.5\/real_media; trying again/,
          report(o, ['the ISO did not say it reached nothing']),
        );
      // With no NIC at all, the image cannot tell whose machine it is: it says so and tries again.
      if (c.snponly)
        assert.match(
          flat(o.result!.serial),
          /harvgen: iPXE finds no NIC on this machine \(none it has a driver for, none the firmware connected\); trying again/,
          report(o, ['the ISO did not say it found no NIC']),
        );
      if (c.grubNoNic) assert.match(cleanSerial(o.result!.serial), /card not found/, report(o, ['GRUB found a NIC']));
      return;
    }
    const found = await problems(c, o);
    if (c.grubRetry) {
      // The initrd was cut once and GRUB ran `linux` again. Whether GRUB took the cut for a reset or (under
      // load) a timeout, the boot it then made is broken: the kernel lost the command line, or the
      // firmware faulted in the kernel GRUB loaded twice, or GRUB handed over a kernel that never
      // reached the test's init (whose marker goes to the serial port whatever console= says: with
      // no command line and no usable initrd the kernel's own panic goes to a screen nobody has).
      // Any way, no installer got the node's config.
      assert.match(o.flaky, /cut after/, report(o, ['the initrd was never cut']));
      const serial = cleanSerial(o.result!.serial);
      const cmdline = markers(o.result!.serial).cmdline;
      const faulted = o.result!.stoppedBecause === 'the firmware faulted';
      const handedOver = /could not load the boot files; trying again/.test(flat(o.result!.serial)) && /Booting in blind mode/.test(serial);
      assert.ok(
        cmdline === '' || (cmdline === undefined && (faulted || handedOver)),
        report(o, [`the old GRUB retry kept the command line (${cmdline ?? 'no kernel booted, no fault, no hand-over'})`]),
      );
      assert.ok(found.length > 0, 'the checks of a good boot find the broken boot');
      return;
    }
    assert.equal(found, [], report(o, found));
    if (c.usb) assert.match(cleanSerial(o.result!.serial), /iPXE initialising devices/, report(o, ['iPXE did not say it started']));
    // Both nodes boot the one image of their medium: the shared one, whose table holds them both.
    assert.is(path.basename(o.iso), c.usb ? 'shared.boot.img' : 'shared.boot.iso');
    // Each file the boot fetched came from the node's own address, through its gateway.
    const node = o.tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
    const from = new Set(requests(o.access).map((q) => q.ip));
    assert.equal([...from], [node.ip], report(o, [`requests came from ${[...from].join(', ')}`]));
    // Both firmwares run the node's own script (what status counts as the start of a boot).
    const script = `/real_media/ipxe/${node.macs[0]!.replace(/:/g, '-')}.ipxe`;
    assert.ok(
      requests(o.access).some((q) => q.path === script && q.status === 200),
      report(o, ["the node's script was not fetched"]),
    );
    if (c.fault?.cut) assert.match(o.flaky, /cut after[^\n]*\n(.*\n)*FLAKY \S+ 200 /, report(o, ['no full download after the cut']));
    if (c.fault?.missing) {
      assert.is((o.flaky.match(/ 404 \(/g) ?? []).length, c.fault.missing, report(o, ['not every planned 404 was asked']));
      assert.match(o.flaky, /FLAKY \S+ 200 /, report(o, ['the file was never served']));
      if (c.fault.missing >= 3)
        assert.match(
          cleanSerial(o.result!.serial),
          /started from a boot medium; trying again/,
          report(o, ["the node's script did not go on after giving up"]),
        );
    }
  });
}

test.run();
