// Boot ISOs (`medium: iso`, docs/install-without-pxe.md) booted for real, with no DHCP server on
// the nodes' segment. Per boot: a fresh network namespace whose tap holds the nodes' gateway
// (10.0.5.1/24) and the boot server's own address on another network (10.0.9.5/24), the generated
// nginx server block on that address, no dnsmasq, and a DHCP witness: a UDP listener on port 67
// that logs every DHCP packet it gets and answers none. QEMU boots the node's ISO from a CD drive
// (a BMC's virtual CD) with the node's MAC on the tap:
//   UEFI: OVMF -> El Torito (0xEF) -> the FAT image's GRUB -> grub.cfg: the static address, the
//         default route, then the node's kernel and initrd over HTTP;
//   BIOS: SeaBIOS -> El Torito -> ISOLINUX -> ipxe.lkrn with the ISO's script -> the node's own
//         script over HTTP -> its kernel and initrd.
// The test initramfs then configures the network from the kernel's `ip=` (a static address: no
// DHCP here either) and fetches the node's Harvester config or NoCloud seed, as the boot tests do.
// The mutation: the ISO with another gateway written into it (same length) reaches nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { requireFetched, requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab, type Lab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { markers, requests } from './helpers/boot-log.ts';
import { mediaLoaders, mediaLoadersAvailable } from './helpers/media-loaders.ts';
import { startDaemon } from './helpers/proc.ts';
import { tempDir } from '../helpers/tmp.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/media');
const GCD = path.join(REPO_ROOT, '.tmp/real/secureboot/gcdx64.efi');
const GATEWAY = '10.0.5.1';
/** Hard limits per boot (two run at once on 2 cores, TCG). */
const LIMIT_MS = { bios: 120_000, uefi: 180_000 } as const;

type Firmware = 'bios' | 'uefi';

interface MediaCase {
  id: string;
  firmware: Firmware;
  /** Debian's signed CD GRUB (gcdx64.efi.signed) as bootx64.efi: it runs grub.cfg but has no http module. */
  debianGcd?: true;
  hostname: 'hv-m1' | 'os-m1';
  /** Write another gateway into the ISO (the mutation): the boot must fail. */
  wrongGateway?: true;
  title: string;
}

const CASES: MediaCase[] = [
  {
    id: 'uefi-harvester',
    firmware: 'uefi',
    hostname: 'hv-m1',
    title: "UEFI (OVMF): the Harvester node's ISO boots its installer command line and fetches its config, no DHCP",
  },
  {
    id: 'uefi-os',
    firmware: 'uefi',
    hostname: 'os-m1',
    title: "UEFI (OVMF): the generic node's ISO boots its kernel with a static ip= and fetches its NoCloud seed, no DHCP",
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
    id: 'uefi-debian-gcd',
    firmware: 'uefi',
    hostname: 'os-m1',
    debianGcd: true,
    title:
      "UEFI: Debian's signed CD GRUB as bootx64.efi runs the ISO's grub.cfg and finds the NIC, but cannot fetch over HTTP (no http module)",
  },
];

/** What one boot left behind. */
interface Outcome {
  tree: SiteTree;
  iso: string;
  result?: BootResult;
  access: string;
  dhcp: string;
  error?: unknown;
}

/** The loaders with Debian's signed CD GRUB (fetched by scripts/fetch-secureboot.sh) as bootx64.efi. */
async function gcdLoaders(loaders: string): Promise<string> {
  const dir = path.join(tempDir('media-gcd'), 'loaders');
  await cp(loaders, dir, { recursive: true });
  await cp(GCD, path.join(dir, 'bootx64.efi'));
  return dir;
}

/** The site built for one firmware, with the loaders made from Debian's packages. */
async function siteFor(firmware: Firmware, loaders: string, label: string = firmware): Promise<SiteTree> {
  const dir = path.join(tempDir(`media-${label}`), 'site');
  await cp(FIXTURE, dir, { recursive: true });
  const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as { boot: Record<string, unknown> };
  doc.boot.media_loaders = loaders;
  doc.boot.firmware = firmware;
  await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
  return (await buildFixtureTrees(`media-${label}`, { site: dir })).site;
}

/** The ISO of `hostname` in `tree` (its manifest entry). */
function isoPath(tree: SiteTree, hostname: string): string {
  const f = tree.manifest.files.find((x) => new RegExp(`^media/${hostname}(-[0-9a-f]{32})?\\.iso$`).test(x.path));
  if (!f) throw new Error(`${tree.label}: manifest.json lists no ISO of ${hostname}`);
  return path.join(tree.dir, f.path);
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
 * A DHCP witness in the lab's namespace: logs each DHCP packet on port 67 and answers none. It
 * binds the port alone (no SO_REUSEADDR), so its "listening" line also shows that no DHCP server
 * holds port 67 in the namespace.
 */
function dhcpWitness(lab: Lab) {
  const code = [
    "const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: false });",
    "s.on('message', (m, r) => console.log(`DHCP-PACKET from ${r.address}:${r.port} op=${m[0]} len=${m.length}`));",
    "s.bind(67, () => { s.setBroadcast(true); console.log('DHCP-WITNESS listening'); });",
  ].join('\n');
  return startDaemon('dhcp-witness', lab.ns.exec([process.execPath, '-e', code]));
}

const outcome = lazyBoots(
  CASES,
  async () => {
    const kernel = await ensureKernel();
    const loaders = await mediaLoaders();
    const initrd = await buildInitramfs(kernel);
    const trees = { bios: await siteFor('bios', loaders), uefi: await siteFor('uefi', loaders) };
    const gcd = existsSync(GCD) ? await siteFor('uefi', await gcdLoaders(loaders), 'gcd') : undefined;
    return { kernel: kernel.vmlinuz, initrd, trees, gcd };
  },
  (c, { kernel, initrd, trees, gcd }) => {
    const tree = c.debianGcd ? gcd : trees[c.firmware];
    if (!tree) throw new Error(`${GCD} is not there (bash scripts/fetch-secureboot.sh)`);
    return runCase(c, tree, { kernel, initrd });
  },
);

async function runCase(c: MediaCase, tree: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const built = isoPath(tree, c.hostname);
  const iso = c.wrongGateway ? await withWrongGateway(built) : built;
  const node = tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const out: Outcome = { tree, iso, access: '', dhcp: '' };
  try {
    await withLab(
      tree,
      artifacts,
      async (lab) => {
        const witness = dhcpWitness(lab);
        try {
          out.result = await bootVm({
            firmware: c.firmware,
            mac: node.macs[0]!,
            ns: lab.ns,
            tap: lab.tap,
            workDir: lab.workDir,
            timeoutMs: c.wrongGateway ? 75_000 : LIMIT_MS[c.firmware],
            cdrom: iso,
            stopWhen: (raw) => {
              const s = cleanSerial(raw);
              for (const fatal of ['Kernel panic', 'HARVGEN-ERROR', 'could not load the boot files', 'Shell> '])
                if (s.includes(fatal)) return fatal;
              return undefined;
            },
          });
        } finally {
          await witness.stop();
          out.dhcp = witness.output();
        }
        out.access = await lab.accessLog();
      },
      {
        dnsmasq: false,
        addresses: [`${GATEWAY}/24`],
        serve: { '/real_media/os/vmlinuz': artifacts.kernel, '/real_media/os/initrd.img': artifacts.initrd },
      },
    );
  } catch (err) {
    out.error = err;
  }
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Everything wrong with a boot that should have worked. */
async function problems(c: MediaCase, o: Outcome): Promise<string[]> {
  const p: string[] = [];
  const r = o.result;
  if (o.error) return [`lab failed: ${String(o.error)}`];
  if (!r) return ['no boot result'];
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  if (r.stoppedBecause) p.push(`stopped early: "${r.stoppedBecause}"`);
  if (/DHCP-PACKET/.test(o.dhcp) && !/DHCP-WITNESS listening/.test(o.dhcp)) p.push('the DHCP witness did not start');
  const m = markers(r.serial);
  if (!m.cmdline) return [...p, 'the test kernel never reached /init'];
  const node = o.tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const args = m.cmdline.split(/\s+/);
  const ip = args.filter((a) => a.startsWith('ip='));
  if (ip.length !== 1 || !ip[0]!.startsWith(`ip=${node.ip}::${GATEWAY}:255.255.255.0:${c.hostname}:`) || !/:none(:|$)/.test(ip[0]!))
    p.push(`kernel ip= ${ip.join(' ') || '(none)'}, expected ip=${node.ip}::${GATEWAY}:255.255.255.0:${c.hostname}:<if>:none`);
  if (!args.includes(`BOOTIF=01-${node.macs[0]!.replace(/:/g, '-')}`)) p.push('no BOOTIF of the boot NIC');
  if (args.some((a) => a.startsWith('initrd='))) p.push('an iPXE initrd= reached the kernel through GRUB');
  const ipLine = m.lines.find((l) => l.startsWith('HARVGEN-IP:')) ?? '';
  if (!ipLine.includes(`inet ${node.ip}/`)) p.push(`guest address: "${ipLine}", expected ${node.ip}`);
  if (c.hostname === 'hv-m1') {
    const rc = m.lines.find((l) => l.startsWith('HARVGEN-FETCH-RC:'));
    if (rc !== 'HARVGEN-FETCH-RC: 0') p.push(`config fetch: ${rc ?? 'never attempted'}`);
    const want = await readFile(path.join(o.tree.dir, node.config!.path));
    if (!m.config || !m.config.equals(want)) p.push("the config the guest fetched is not the node's config file");
  } else {
    const s = cleanSerial(r.serial);
    const rc = /^HARVGEN-NOCLOUD-user-data-RC: (\d+)$/m.exec(s)?.[1];
    const sha = /^HARVGEN-NOCLOUD-user-data-SHA256: ([0-9a-f]{64})/m.exec(s)?.[1];
    if (rc !== '0') p.push(`user-data fetch rc ${rc ?? '(never)'}`);
    const seed = o.tree.manifest.files.find((f) => f.path.startsWith('cloud-init/') && f.path.endsWith('/user-data'));
    if (!seed) p.push('no user-data in the manifest');
    else if (sha !== sha256(await readFile(path.join(o.tree.dir, seed.path))))
      p.push('the user-data the guest fetched is not the seed file');
  }
  return p;
}

/** What to print when a boot went wrong. */
function report(o: Outcome, found: string[]): string {
  const r = o.result;
  return [
    `${found.length} problem(s):`,
    ...found.map((f) => `  - ${f}`),
    `ISO: ${o.iso}`,
    r ? `QEMU: ${r.cmd}\nserial (last 4000 chars):\n${cleanSerial(r.serial).slice(-4000)}\nqemu: ${r.qemuOutput.slice(-1000)}` : '',
    `nginx access log:\n${o.access}`,
    `DHCP witness:\n${o.dhcp}`,
  ].join('\n');
}

const ready = (c: MediaCase) =>
  requireRoot() &&
  mediaLoadersAvailable() &&
  requireProgram('qemu-system-x86_64', 'nginx', 'ip', '/usr/share/OVMF/OVMF_CODE_4M.fd') &&
  (!c.debianGcd || requireFetched(existsSync(GCD) ? [] : [GCD], `${GCD} is not there (bash scripts/fetch-secureboot.sh)`));

for (const c of CASES) {
  test(c.title, async () => {
    if (!ready(c)) return;
    const o = await outcome(c.id);
    // No DHCP server ran, and nothing answered DHCP: the witness logs what it got and sends nothing.
    assert.ok(/DHCP-WITNESS listening/.test(o.dhcp), `the DHCP witness did not listen:\n${o.dhcp}`);
    if (c.debianGcd) {
      // Its own config ran ours ($cmdpath/grub.cfg), which found the NIC; no (http,...) device exists.
      const s = cleanSerial(o.result?.serial ?? '');
      assert.match(s, /harvgen: efinet\d+ \(52:54:00:4d:00:02\) static address 10\.0\.5\.12\/24/, report(o, ['grub.cfg did not run']));
      assert.match(s, /disk `http,10\.0\.9\.5' not found/, report(o, ['the http module was there']));
      assert.is(markers(o.result!.serial).cmdline, undefined, report(o, ['a kernel booted']));
      return;
    }
    if (c.wrongGateway) {
      assert.ok(o.result && !o.error, report(o, ['no boot result']));
      const m = markers(o.result!.serial);
      const fetched = requests(o.access).filter((q) => q.status === 200);
      assert.is(m.cmdline, undefined, report(o, ['a kernel booted with a wrong gateway on the ISO']));
      assert.is(fetched.length, 0, report(o, ['the boot server answered a node with a wrong gateway']));
      return;
    }
    const found = await problems(c, o);
    assert.equal(found, [], report(o, found));
    // Each file the boot fetched came from the node's own address, through its gateway.
    const node = o.tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
    const from = new Set(requests(o.access).map((q) => q.ip));
    assert.equal([...from], [node.ip], report(o, [`requests came from ${[...from].join(', ')}`]));
  });
}

test.run();
