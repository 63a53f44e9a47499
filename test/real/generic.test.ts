// Nodes that do not install Harvester, booted for real: a generic OS node gets its profile's
// kernel and initrd and a kernel command line with cloud-init's NoCloud seed
// (`ds=nocloud;s=<seed URL>`), and the guest fetches meta-data, user-data and vendor-data from the
// generated nginx; a diskless node attaches a real iSCSI target with `sanboot` and boots from it.
//
// Labs, VMs and the stand-in OS are those of boot.test.ts (helpers/lab.ts, qemu.ts,
// initramfs.ts): the profile's kernel and initrd URLs are served by test-only nginx locations
// (Debian's kernel and the test initramfs, whose /init fetches and prints the NoCloud files). The
// iSCSI target is Debian's tgt (helpers/iscsi.ts) in the lab's namespace, serving a copy of the
// lifecycle test's BIOS marker disk (helpers/disks.ts) to the node's initiator IQN only.
//
//   BIOS os:    SeaBIOS -> NIC iPXE ROM -> boot.ipxe -> node script: kernel + initrd -> /init
//   UEFI os:    OVMF PXE -> snponly.efi (TFTP) -> boot.ipxe -> node script (initrd=initrd0) -> /init
//   BIOS iscsi: SeaBIOS -> NIC iPXE ROM -> boot.ipxe -> node script: sanboot iscsi:... -> the
//               target's boot sector prints HARVGEN-DISK-BOOTED and exits QEMU (isa-debug-exit)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { findProgram, requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, KERNEL_DIR, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, copyTree, hostPort, type SiteTree, type Manifest } from './helpers/tree.ts';
import { DISK_MARKER, writeBiosMarkerDisk } from './helpers/disks.ts';
import { TGT_PROGRAMS, parseIscsiRootPath, sessionsOf, startIscsiTarget } from './helpers/iscsi.ts';
import { sleep } from './helpers/proc.ts';
import { flat, pathOf, requests, selectedCases, uefiLoaderProblem } from './helpers/boot-log.ts';
import { nocloudArg } from '../../src/derive/configs/nocloud.ts';

/** The two generic fixtures (built here, after the programs check). */
const SOURCES = {
  bios: path.join(REPO_ROOT, 'test/fixtures/real/generic_bios'),
  uefi: path.join(REPO_ROOT, 'test/fixtures/real/generic_uefi'),
} as const;
type Key = keyof typeof SOURCES;

/** Hard limits per boot (BIOS ~10 s, UEFI ~30 s alone; two run at once). */
const LIMIT_MS = { bios: 90_000, uefi: 150_000 } as const;
/** After the disk's marker: how long QEMU gets to exit by itself. */
const DISK_EXIT_GRACE_MS = 5_000;

/** The NoCloud files, in the order the guest fetches them. */
const NOCLOUD = ['meta-data', 'user-data', 'vendor-data'] as const;
type NoCloudName = (typeof NOCLOUD)[number];

/** Size of the iSCSI LUN holding the marker boot sector (sparse). */
const ISCSI_LUN_BYTES = 16 * 1024 * 1024;
/** An initiator IQN the target does not accept (the wrong-initiator mutation). */
const STRANGER_IQN = 'iqn.2026-11.dev.harvgen:not-the-node';

interface GenericCase {
  id: string;
  title: string;
  key: Key;
  hostname: string;
  kind: 'os' | 'iscsi';
  /** Break a copy of the tree first (the check must notice). */
  mutation?: 'broken-seed' | 'wrong-initiator';
}

// Longest first, so two lanes finish together.
const CASES: GenericCase[] = [
  {
    id: 'uefi-os',
    key: 'uefi',
    hostname: 'gu-os',
    kind: 'os',
    title:
      'UEFI (OVMF, snponly.efi): the generic node gu-os boots its profile kernel with initrd=initrd0 and fetches its NoCloud seed; user-data is user-data.yaml byte for byte',
  },
  {
    id: 'bios-iscsi-wrong-initiator',
    key: 'bios',
    hostname: 'gb-iscsi',
    kind: 'iscsi',
    mutation: 'wrong-initiator',
    title: 'mutation: gb-iscsi logging in as another initiator IQN is refused by the target, and the SAN boot check notices',
  },
  {
    id: 'bios-os',
    key: 'bios',
    hostname: 'gb-os',
    kind: 'os',
    title:
      'BIOS (SeaBIOS): the generic node gb-os boots its profile kernel and initrd with ds=nocloud;s=<seed>, BOOTIF and the profile params, and fetches its own meta-data, user-data and vendor-data',
  },
  {
    id: 'bios-os-broken-seed',
    key: 'bios',
    hostname: 'gb-os',
    kind: 'os',
    mutation: 'broken-seed',
    title: 'mutation: a gb-os script whose seed URL names the MAC with colons fails the NoCloud check',
  },
  {
    id: 'bios-iscsi',
    key: 'bios',
    hostname: 'gb-iscsi',
    kind: 'iscsi',
    title:
      'BIOS (SeaBIOS), no local disk: gb-iscsi sanboots its iSCSI target (tgt, LUN 1, ACL = its initiator IQN) and boots the boot sector it holds',
  },
];

/** HARVGEN_GENERIC_ONLY=<id>,<id>: boot only these cases (debugging aid; the others are not registered). */
const SELECTED = selectedCases(CASES, 'HARVGEN_GENERIC_ONLY');

/** manifest.json with the generic-node fields (typed here so this file compiles before and after they land). */
interface GNode {
  hostname: string;
  boot?: string;
  os?: string;
  cloud_init?: { mac: string; url: string }[];
  iscsi?: string;
  ip?: string;
  method: string;
  macs: string[];
  ipxe: { mac: string; path: string; url: string }[];
  config?: { path: string; url: string };
}
type GManifest = Omit<Manifest, 'nodes'> & { nodes: GNode[] };

/** The parts of site.yaml the checks compare with. */
interface GInput {
  os_profiles?: Record<string, { kernel: string; initrds?: string[]; params?: string[] }>;
  nodes: {
    hostname: string;
    cloud_init?: { user_data?: unknown; user_data_file?: string; meta_data?: Record<string, unknown> };
    iscsi?: { server: string; target: string; lun?: number; initiator?: string };
  }[];
}

const manifestOf = (t: SiteTree): GManifest => t.manifest as unknown as GManifest;
const inputOf = (t: SiteTree): GInput => t.input as unknown as GInput;
const inputNode = (t: SiteTree, hostname: string): GInput['nodes'][number] => {
  const n = inputOf(t).nodes.find((x) => x.hostname === hostname);
  if (!n) throw new Error(`${t.label}: no node ${hostname} in site.yaml`);
  return n;
};

let trees: Promise<Record<Key, SiteTree>> | undefined;

/** Build both fixtures once per process (HARVGEN_REAL_OUT: use the ones in that tree if present). */
function getGenericTrees(): Promise<Record<Key, SiteTree>> {
  trees ??= buildFixtureTrees('generic', SOURCES);
  return trees;
}

/** Everything one boot produced, for the assertions and the failure report. */
interface Outcome {
  tree: SiteTree;
  node: GNode;
  mac: string;
  result?: BootResult;
  access: string;
  dnsmasq: string;
  /** iSCSI: every session tgtadm listed during and right after the boot. */
  sessions?: { initiator: string; ip?: string }[];
  /** iSCSI: the last `tgtadm --op show` that listed a session (or the last one at all). */
  targetShow?: string;
  /** iSCSI: tgtd's own output. */
  tgtdLog?: string;
  error?: unknown;
}

/** The selected boots whose programs are there, started on first use, two at a time; each test awaits its own. */
const outcome = lazyBoots(
  SELECTED.filter((c) => neededPrograms(c).every((p) => findProgram(p))),
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await getGenericTrees() };
  },
  (c, { kernel, initrd, trees }) => runCase(c, trees[c.key], { kernel, initrd }),
);

/** The seed URL of the NIC that boots (from manifest.json). */
function seedOf(node: GNode, mac: string): string | undefined {
  return node.cloud_init?.find((c) => c.mac === mac)?.url;
}

async function mutate(c: GenericCase, base: SiteTree, node: GNode, mac: string): Promise<SiteTree> {
  const tree = await copyTree(base, c.mutation!);
  const script = path.join(tree.dir, node.ipxe.find((x) => x.mac === mac)!.path);
  const text = await readFile(script, 'utf8');
  let broken = text;
  if (c.mutation === 'broken-seed') {
    // A plausible slip: the seed directory named with the colon form of the MAC.
    const seed = seedOf(node, mac)!;
    const hyphen = mac.replace(/:/g, '-');
    broken = text.replace(nocloudArg(seed), nocloudArg(seed.replace(`/${hyphen}/`, `/${mac}/`)));
  } else {
    broken = text.replace(/^([ \t]*set[ \t]+initiator-iqn[ \t]+)\S+/m, `$1${STRANGER_IQN}`);
  }
  if (broken === text) throw new Error(`mutation ${c.mutation} did not apply to ${script}:\n${text}`);
  await writeFile(script, broken);
  return tree;
}

async function runCase(c: GenericCase, base: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const node = manifestOf(base).nodes.find((n) => n.hostname === c.hostname);
  if (!node) throw new Error(`${base.label}: no node ${c.hostname} in manifest.json`);
  const mac = node.macs[0]!;
  const tree = c.mutation ? await mutate(c, base, node, mac) : base;
  const firmware = tree.manifest.boot.firmware;
  const out: Outcome = { tree, node, mac, access: '', dnsmasq: '' };
  // Generic nodes: the profile's kernel and initrd come from the test (Debian's kernel, the test initramfs).
  const serve: Record<string, string> = {};
  if (c.kind === 'os') {
    const profile = inputOf(tree).os_profiles?.[node.os ?? ''];
    if (!profile) throw new Error(`${tree.label}: ${node.hostname} boots OS profile ${node.os}, which site.yaml does not define`);
    const initrds = profile.initrds ?? [];
    if (initrds.length !== 1)
      throw new Error(`${tree.label}: profile ${node.os} has ${initrds.length} initrds; the lab serves exactly one`);
    for (const [url, file] of [
      [profile.kernel, artifacts.kernel],
      [initrds[0]!, artifacts.initrd],
    ] as const) {
      if (hostPort(url).host !== hostPort(tree.manifest.boot.server).host)
        throw new Error(`${url} is not on the boot server: the lab cannot serve it`);
      serve[new URL(url).pathname] = file;
    }
  }
  try {
    await withLab(
      tree,
      artifacts,
      async (lab) => {
        let stopTarget: (() => Promise<void>) | undefined;
        let poll: Promise<void> | undefined;
        let booting = true;
        try {
          if (c.kind === 'iscsi') {
            const root = parseIscsiRootPath(node.iscsi ?? '');
            const initiator = inputNode(tree, node.hostname).iscsi?.initiator;
            if (!initiator) throw new Error(`${tree.label}: ${node.hostname} has no iscsi.initiator in site.yaml`);
            // The portal may be another address than the boot server's: put it on the tap too.
            if (root.server !== hostPort(tree.manifest.boot.server).host) {
              await lab.ns.sh(['ip', 'addr', 'add', `${root.server}/${tree.input.network.cidr.split('/')[1] ?? '24'}`, 'dev', lab.tap]);
            }
            // The marker disk's boot sector on a LUN of its own (tgt opens it read-write), 16 MiB:
            // iPXE's INT 13 cannot read the MBR of a disk smaller than one cylinder (see disks.ts).
            const disk = path.join(lab.workDir, 'iscsi-lun.img');
            await writeBiosMarkerDisk(disk, ISCSI_LUN_BYTES);
            const target = await startIscsiTarget(lab.ns, {
              portal: { host: root.server, port: root.port },
              target: root.target,
              lun: root.lun,
              backingFile: disk,
              initiators: [initiator],
            });
            stopTarget = async () => {
              await target.stop();
              out.tgtdLog = target.log();
              await writeFile(path.join(lab.workDir, 'tgtd.log'), out.tgtdLog);
            };
            out.sessions = [];
            out.targetShow = await target.show();
            // The session lasts from iPXE's login to the end of the VM: poll while it boots.
            poll = (async () => {
              for (;;) {
                const show = await target.show();
                const s = sessionsOf(show);
                if (s.length || !out.sessions!.length) out.targetShow = show;
                for (const x of s) if (!out.sessions!.some((y) => y.initiator === x.initiator && y.ip === x.ip)) out.sessions!.push(x);
                if (!booting) return;
                await sleep(250);
              }
            })();
          }
          out.result = await bootVm({
            firmware,
            mac,
            ns: lab.ns,
            tap: lab.tap,
            workDir: lab.workDir,
            timeoutMs: LIMIT_MS[firmware],
            debugExit: c.kind === 'iscsi',
            stopWhen: stopper(c),
          });
          booting = false;
          await poll; // one more look after the VM ended
          out.access = await lab.accessLog();
          out.dnsmasq = lab.dnsmasqLog();
        } finally {
          booting = false;
          await poll?.catch(() => undefined);
          await stopTarget?.();
        }
      },
      { serve },
    );
  } catch (err) {
    out.error = err;
  }
  return out;
}

const FATAL = ['Kernel panic', 'No bootable device', 'Shell> ', 'HARVGEN-ERROR', 'giving up on', 'could not load', 'could not boot'];

function stopper(c: GenericCase): (raw: string) => string | undefined {
  let markerAt = 0;
  return (raw) => {
    const s = cleanSerial(raw);
    for (const fatal of FATAL) if (s.includes(fatal)) return fatal;
    if (c.kind === 'iscsi') {
      if (/HARVGEN-CMDLINE|Linux version/.test(s)) return 'a kernel booted';
      // The wrong-initiator mutation: one refused login is enough (the script would retry for ~45 s).
      if (c.mutation && /attempt 1 of \d+ failed/.test(s)) return 'the first sanboot attempt failed';
      if (s.includes(DISK_MARKER)) {
        markerAt ||= Date.now();
        if (Date.now() - markerAt > DISK_EXIT_GRACE_MS) return 'disk marker seen, but QEMU did not exit';
      }
    }
    return undefined;
  };
}

/** Parsed nginx access log lines (default "combined" format). */
interface NoCloudFile {
  rc?: string;
  sha?: string;
  bytes?: Buffer;
}

function markers(serial: string): { cmdline?: string; lines: string[]; seed?: string; files: Record<NoCloudName, NoCloudFile> } {
  const s = cleanSerial(serial);
  const lines = s.split('\n').filter((l) => l.startsWith('HARVGEN-'));
  const cmdline = /^HARVGEN-CMDLINE: (.*)$/m.exec(s)?.[1]?.trim();
  const seed = /^HARVGEN-NOCLOUD-SEED: (.*)$/m.exec(s)?.[1]?.trim();
  const files = {} as Record<NoCloudName, NoCloudFile>;
  for (const name of NOCLOUD) {
    const b64 = new RegExp(`^HARVGEN-NOCLOUD-${name}-B64-BEGIN\\n([\\s\\S]*?)^HARVGEN-NOCLOUD-${name}-B64-END`, 'm').exec(s)?.[1];
    files[name] = {
      rc: new RegExp(`^HARVGEN-NOCLOUD-${name}-RC: (\\d+)$`, 'm').exec(s)?.[1],
      sha: new RegExp(`^HARVGEN-NOCLOUD-${name}-SHA256: ([0-9a-f]{64})`, 'm').exec(s)?.[1],
      bytes: b64 === undefined ? undefined : Buffer.from(b64.replace(/\s+/g, ''), 'base64'),
    };
  }
  return { cmdline, lines, seed, files };
}

/** The serial log without line breaks: SeaBIOS's serial console wraps iPXE's output at 80 columns. */
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Requests a non-Harvester node must never make: Harvester configs, the release files, unknown.ipxe, other MACs' scripts. */
function forbiddenRequests(o: Outcome, reqs: ReturnType<typeof requests>): string[] {
  const { tree } = o;
  const prefix = new URL(tree.manifest.boot.server).pathname.replace(/\/+$/, '');
  const own = pathOf(o.node.ipxe.find((s) => s.mac === o.mac)!.url);
  const release = Object.values((tree.manifest as { artifacts?: Record<string, string> }).artifacts ?? {}).map(pathOf);
  return reqs
    .filter(
      (r) =>
        r.path.startsWith(`${prefix}/harvester/`) ||
        /\/harvester-v[^/]*-(vmlinuz|initrd|rootfs)/.test(r.path) ||
        release.includes(r.path) ||
        r.path === pathOf(tree.manifest.boot.unknown_url) ||
        (r.path.startsWith(`${prefix}/ipxe/`) && r.path !== own),
    )
    .map((r) => `${r.path} (${r.status})`);
}

/** Everything wrong with a generic OS boot. Empty = the node booted its profile and got its own NoCloud data. */
async function osProblems(o: Outcome): Promise<string[]> {
  const { tree, node, result } = o;
  if (!result) return ['no boot result'];
  const p: string[] = [];
  if (result.timedOut) p.push(`timed out after ${result.ms} ms`);
  if (result.stoppedBecause) p.push(`stopped early: "${result.stoppedBecause}" on the serial console`);
  const s = cleanSerial(result.serial);
  const m = markers(result.serial);
  if (!m.cmdline) return [...p, 'the test kernel never reached /init (no HARVGEN-CMDLINE on the serial console)'];
  const args = m.cmdline.split(/\s+/);
  const seed = seedOf(node, o.mac);
  const profile = inputOf(tree).os_profiles?.[node.os ?? ''];
  if (node.boot !== undefined && node.boot !== 'os') p.push(`manifest.json: ${node.hostname} has boot ${node.boot}, expected os`);
  if (!profile) p.push(`manifest.json: ${node.hostname} has os ${node.os}, which is no profile of site.yaml`);
  if (!seed) p.push(`manifest.json: ${node.hostname} has no cloud_init seed URL for ${o.mac}`);
  else {
    if (!seed.endsWith('/')) p.push(`manifest.json: the seed URL ${seed} does not end in /`);
    const ds = args.filter((a) => a.startsWith('ds='));
    if (ds.join(' ') !== nocloudArg(seed)) p.push(`kernel command line has ${ds.join(' ') || 'no ds='}, expected ${nocloudArg(seed)}`);
    if (m.seed !== seed) p.push(`the guest parsed the seed ${m.seed ?? '(none)'} from its command line, expected ${seed}`);
  }
  // The profile's params, all of them, in their order.
  let last = -1;
  for (const want of profile?.params ?? []) {
    const i = args.indexOf(want, last + 1);
    if (i < 0) p.push(`kernel command line lacks the profile param ${want}${args.includes(want) ? ' in its order' : ''}`);
    else last = i;
  }
  if (tree.manifest.boot.firmware === 'uefi') {
    const script = await readFile(path.join(tree.dir, node.ipxe.find((x) => x.mac === o.mac)!.path), 'utf8');
    const names = [...script.matchAll(/^[ \t]*initrd[ \t]+--name[ \t]+(\S+)/gm)].map((x) => x[1]!);
    if (!names.length) p.push('the UEFI script names no initrd (initrd --name)');
    for (const n of names)
      if (!args.includes(`initrd=${n}`)) p.push(`UEFI kernel line without initrd=${n} (the EFI stub would load no initrd)`);
  }
  const harvesterArgs = args.filter((a) => a.startsWith('harvester.') || a.startsWith('root=live:'));
  if (harvesterArgs.length) p.push(`Harvester installer arguments on a generic node: ${harvesterArgs.join(' ')}`);
  const nicMac = /^HARVGEN-NIC: \S+ ([0-9a-f:]{17})$/m.exec(s)?.[1];
  const bootif = args.filter((a) => a.startsWith('BOOTIF='));
  if (!nicMac) p.push('the guest reported no NIC');
  else {
    if (nicMac !== o.mac) p.push(`the guest's NIC is ${nicMac}, the VM was given ${o.mac}`);
    if (bootif.join(' ') !== `BOOTIF=01-${nicMac.replace(/:/g, '-')}`)
      p.push(`${bootif.join(' ') || 'no BOOTIF'}, expected BOOTIF=01-${nicMac.replace(/:/g, '-')}`);
  }
  const ipLine = m.lines.find((l) => l.startsWith('HARVGEN-IP:')) ?? '';
  if (node.ip && !ipLine.includes(`inet ${node.ip}/`)) p.push(`guest address: "${ipLine}", expected ${node.ip}`);

  // The NoCloud files: fetched by the guest, equal to the tree's, and what the inventory says.
  const got: Partial<Record<NoCloudName, Buffer>> = {};
  for (const name of NOCLOUD) {
    const f = m.files[name];
    const url = seed ? `${seed}${name}` : undefined;
    const rel = tree.manifest.files.find((x) => x.url === url)?.path;
    if (url && !rel) p.push(`manifest.json lists no served file with url ${url}`);
    if (f.rc !== '0') p.push(`${name}: fetch ${f.rc === undefined ? 'never attempted' : `exited ${f.rc}`}`);
    const want = rel ? await readFile(path.join(tree.dir, rel)).catch(() => undefined) : undefined;
    if (rel && !want) p.push(`the tree has no ${rel}`);
    if (!f.bytes) p.push(`${name}: nothing printed on the serial console`);
    else if (want && !f.bytes.equals(want)) p.push(`${name}: the guest got bytes that differ from ${rel}`);
    if (want && f.sha !== sha256(want)) p.push(`${name}: sha256 in the guest ${f.sha} != ${rel} (${sha256(want)})`);
    if (f.bytes && f.rc === '0') got[name] = f.bytes;
  }
  const inNode = inputNode(tree, node.hostname).cloud_init ?? {};
  const userData = got['user-data'];
  if (userData) {
    const text = userData.toString('utf8');
    if (!text.startsWith('#cloud-config\n'))
      p.push(`user-data does not start with "#cloud-config\\n": ${JSON.stringify(text.slice(0, 40))}`);
    if (inNode.user_data_file) {
      const src = await readFile(path.join(tree.sourceDir, inNode.user_data_file));
      if (!userData.equals(src)) p.push(`user-data differs from the inventory's ${inNode.user_data_file}`);
    } else if (inNode.user_data !== undefined) {
      const parsed = parseYaml(text) as unknown;
      if (JSON.stringify(parsed) !== JSON.stringify(inNode.user_data))
        p.push(`user-data parses to ${JSON.stringify(parsed)}, the inventory has ${JSON.stringify(inNode.user_data)}`);
    }
  }
  const metaData = got['meta-data'];
  if (metaData) {
    const md = (parseYaml(metaData.toString('utf8')) ?? {}) as Record<string, unknown>;
    const want: Record<string, unknown> = {
      ...(inNode.meta_data ?? {}),
      'instance-id': `${tree.site}-${node.hostname}`,
      'local-hostname': node.hostname,
    };
    for (const [k, v] of Object.entries(want)) {
      if (JSON.stringify(md[k]) !== JSON.stringify(v)) p.push(`meta-data ${k}: ${JSON.stringify(md[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  const vendorData = got['vendor-data'];
  if (vendorData && !vendorData.toString('utf8').startsWith('#cloud-config\n'))
    p.push(`vendor-data does not start with "#cloud-config\\n": ${JSON.stringify(vendorData.toString('utf8').slice(0, 40))}`);

  const reqs = requests(o.access);
  const need = [tree.manifest.boot.entry_url, node.ipxe.find((x) => x.mac === o.mac)!.url, profile?.kernel, ...(profile?.initrds ?? [])];
  for (const url of need.filter((u): u is string => !!u)) {
    if (!reqs.some((r) => r.path === pathOf(url) && r.status === 200)) p.push(`nginx never answered 200 for ${pathOf(url)}`);
  }
  if (seed) {
    for (const name of NOCLOUD) {
      const hits = reqs.filter((r) => r.path === pathOf(`${seed}${name}`));
      if (!hits.some((r) => r.status === 200)) p.push(`nginx never answered 200 for ${pathOf(`${seed}${name}`)}`);
      // Fetched by the guest itself, from the address its reservation gives it.
      if (node.ip && hits.some((r) => r.ip !== node.ip))
        p.push(`${name} was fetched from ${hits.map((r) => r.ip).join(', ')}, not from ${node.ip}`);
    }
  }
  const forbidden = forbiddenRequests(o, reqs);
  if (forbidden.length) p.push(`a generic node fetched ${forbidden.join(', ')}`);
  const tftp = uefiLoaderProblem(tree, o.dnsmasq);
  if (tftp) p.push(tftp);
  if (result.exitCode !== 0) p.push(`QEMU exit ${result.exitCode} (the guest did not power off by itself)`);
  return p;
}

/** Everything wrong with an iSCSI boot. Empty = iPXE attached the target as the node's initiator and booted it. */
async function iscsiProblems(o: Outcome): Promise<string[]> {
  const { tree, node, result } = o;
  if (!result) return ['no boot result'];
  const p: string[] = [];
  if (result.timedOut) p.push(`timed out after ${result.ms} ms`);
  if (result.stoppedBecause) p.push(`stopped early: "${result.stoppedBecause}" on the serial console`);
  const inv = inputNode(tree, node.hostname).iscsi;
  if (node.boot !== undefined && node.boot !== 'iscsi') p.push(`manifest.json: ${node.hostname} has boot ${node.boot}, expected iscsi`);
  if (!node.iscsi) return [...p, `manifest.json: ${node.hostname} has no iscsi root path`];
  const root = parseIscsiRootPath(node.iscsi);
  if (inv && (root.server !== inv.server || root.target !== inv.target || root.lun !== (inv.lun ?? 0)))
    p.push(`manifest.json root path ${node.iscsi} does not match the inventory (${inv.server}, ${inv.target}, LUN ${inv.lun ?? 0})`);
  const script = await readFile(path.join(tree.dir, node.ipxe.find((x) => x.mac === o.mac)!.path), 'utf8');
  const iqn = /^[ \t]*set[ \t]+initiator-iqn[ \t]+(\S+)/m.exec(script)?.[1];
  if (inv?.initiator && iqn !== inv.initiator)
    p.push(`the script sets initiator-iqn ${iqn ?? '(nothing)'}, the inventory says ${inv.initiator}`);
  if (!new RegExp(`^[ \\t]*sanboot[ \\t]+(--\\S+[ \\t]+)*${node.iscsi.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([ \\t]|$)`, 'm').test(script))
    p.push(`the script has no "sanboot ${node.iscsi}" line`);
  const s = cleanSerial(result.serial);
  const f = flat(result.serial);
  const markerAt = f.indexOf(DISK_MARKER);
  const sanAt = f.search(/Booting from SAN device/);
  if (markerAt < 0) p.push(`the target's boot sector never ran (no ${DISK_MARKER} on the serial console)`);
  else if (sanAt < 0 || sanAt > markerAt) p.push('the marker was not booted by iPXE\'s sanboot (no "Booting from SAN device" before it)');
  if (/HARVGEN-CMDLINE|Linux version/.test(s)) p.push('a kernel booted');
  // The target saw the node's own initiator, from the node's address.
  const sessions = o.sessions ?? [];
  const wantIqn = inv?.initiator;
  if (!sessions.length) p.push('tgtadm never listed a session on the target');
  for (const x of sessions) {
    if (wantIqn && x.initiator !== wantIqn) p.push(`a session from initiator ${x.initiator}, expected only ${wantIqn}`);
    if (node.ip && x.ip !== node.ip) p.push(`a session from ${x.ip}, expected the node's ${node.ip}`);
  }
  if (wantIqn && !sessions.some((x) => x.initiator === wantIqn)) p.push(`no session from the node's initiator ${wantIqn}`);
  const reqs = requests(o.access);
  for (const url of [tree.manifest.boot.entry_url, node.ipxe.find((x) => x.mac === o.mac)!.url]) {
    if (!reqs.some((r) => r.path === pathOf(url) && r.status === 200)) p.push(`nginx never answered 200 for ${pathOf(url)}`);
  }
  const allowed = new Set([pathOf(tree.manifest.boot.entry_url), pathOf(node.ipxe.find((x) => x.mac === o.mac)!.url)]);
  const extra = reqs.filter((r) => !allowed.has(r.path));
  if (extra.length) p.push(`nginx was asked for ${extra.map((r) => `${r.path} (${r.status})`).join(', ')}; a SAN boot needs none of it`);
  // The boot sector ends the VM through isa-debug-exit: (0 << 1) | 1.
  if (markerAt >= 0 && result.exitCode !== 1) p.push(`QEMU exit ${result.exitCode}, expected 1 from the boot sector`);
  return p;
}

function report(o: Outcome): string {
  const r = o.result;
  const serial = r ? cleanSerial(r.serial).split('\n') : [];
  const m = r ? markers(r.serial) : undefined;
  const decoded = m
    ? NOCLOUD.filter((n) => m.files[n].bytes).map(
        (n) => `--- ${n} as the guest got it ---\n${m.files[n].bytes!.toString('utf8').trimEnd()}`,
      )
    : [];
  return [
    `site ${o.tree.label}, MAC ${o.mac}, node ${o.node.hostname}`,
    r
      ? `QEMU: ${r.cmd}\n  exit ${r.exitCode}, ${r.ms} ms${r.timedOut ? ', TIMED OUT' : ''}${r.stoppedBecause ? `, stopped: ${r.stoppedBecause}` : ''}\n${r.qemuOutput.trim()}`
      : '',
    `--- serial console (last 250 of ${serial.length} lines) ---`,
    serial.slice(-250).join('\n'),
    ...decoded,
    '--- nginx access log ---',
    o.access.trim(),
    '--- dnsmasq log (last 60 lines) ---',
    o.dnsmasq.trim().split('\n').slice(-60).join('\n'),
    ...(o.targetShow !== undefined ? [`--- tgtadm --op show ---\n${o.targetShow.trim()}`] : []),
    ...(o.tgtdLog !== undefined
      ? [
          `--- tgtd log (iSCSI lines, last 40) ---\n${o.tgtdLog
            .split('\n')
            .filter((l) => /iscsi|login|initiator|target|session|conn/i.test(l))
            .slice(-40)
            .join('\n')}`,
        ]
      : []),
  ].join('\n');
}

/** Programs a case needs (the trees are only built after this). */
function neededPrograms(c: Pick<GenericCase, 'key' | 'kind'>): string[] {
  const fetch = existsSync(path.join(KERNEL_DIR, 'VERSION')) ? [] : ['apt-get', 'dpkg-deb'];
  return [
    'qemu-system-x86_64',
    'nginx',
    'dnsmasq',
    'ip',
    'ss',
    'socat',
    'cpio',
    '/bin/busybox',
    ...fetch,
    '/usr/lib/ipxe/qemu/pxe-virtio.rom',
    '/usr/lib/ipxe/undionly.kpxe',
    '/usr/lib/ipxe/ipxe.efi',
    '/usr/lib/ipxe/snponly.efi',
    ...(c.key === 'uefi' ? ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'] : []),
    ...(c.kind === 'iscsi' ? TGT_PROGRAMS : []),
  ];
}

function programsPresent(c: Pick<GenericCase, 'key' | 'kind'>): boolean {
  const [first, ...rest] = neededPrograms(c);
  return requireProgram(first!, ...rest) && requireRoot();
}

test('manifest.json and the tree describe the generic nodes as the boots use them (seed URLs, served NoCloud files, iSCSI root path)', async () => {
  if (!programsPresent({ key: 'bios', kind: 'os' })) return;
  const t = await getGenericTrees();
  const p: string[] = [];
  for (const k of ['bios', 'uefi'] as const) {
    const m = manifestOf(t[k]);
    for (const n of m.nodes) {
      const inv = inputNode(t[k], n.hostname);
      if (n.os !== undefined) {
        for (const mac of n.macs) {
          const want = `${m.boot.server}/cloud-init/${mac.replace(/:/g, '-')}/`;
          if (seedOf(n, mac) !== want) p.push(`${k} ${n.hostname}: seed URL ${seedOf(n, mac)}, expected ${want}`);
          for (const name of NOCLOUD) {
            const f = m.files.find((x) => x.url === `${want}${name}`);
            if (!f) p.push(`${k} ${n.hostname}: manifest lists no served ${want}${name}`);
            else if (f.path !== `cloud-init/${mac.replace(/:/g, '-')}/${name}`)
              p.push(`${k} ${n.hostname}: ${f.url} is served from ${f.path}`);
          }
          const script = await readFile(path.join(t[k].dir, n.ipxe.find((x) => x.mac === mac)!.path), 'utf8');
          if (!script.startsWith('#!ipxe\n')) p.push(`${k} ${n.hostname}: the script does not start with #!ipxe`);
        }
      }
      if (inv.iscsi) {
        const want = `iscsi:${inv.iscsi.server}::3260:${inv.iscsi.lun ?? 0}:${inv.iscsi.target}`;
        if (n.iscsi !== want) p.push(`${k} ${n.hostname}: manifest iscsi ${n.iscsi}, expected ${want}`);
        if (n.cloud_init) p.push(`${k} ${n.hostname}: an iSCSI node has cloud_init seeds`);
      }
    }
  }
  assert.equal(p, [], p.join('\n'));
});

for (const c of SELECTED) {
  test(c.title, async () => {
    if (!programsPresent(c)) return;
    const o = await outcome(c.id);
    if (o.result)
      console.log(
        `  boot ${c.id}: ${(o.result.ms / 1000).toFixed(1)} s${o.result.stoppedBecause ? ` (stopped: ${o.result.stoppedBecause})` : ''}`,
      );
    if (o.error)
      throw new Error(`${c.id}: the boot lab failed: ${o.error instanceof Error ? o.error.stack : String(o.error)}\n${report(o)}`);
    const p = c.kind === 'os' ? await osProblems(o) : await iscsiProblems(o);
    if (!c.mutation) {
      assert.equal(p, [], `${c.id}: the boot went wrong:\n  ${p.join('\n  ')}\n${report(o)}`);
      return;
    }
    assert.ok(p.length > 0, `${c.id}: the mutation went unnoticed:\n${report(o)}`);
    const s = cleanSerial(o.result?.serial ?? '');
    if (c.mutation === 'broken-seed') {
      // The kernel booted and the guest asked for the broken URL; nginx said 404.
      const m = markers(o.result?.serial ?? '');
      assert.ok(
        m.cmdline !== undefined && NOCLOUD.every((n) => m.files[n].rc !== undefined && m.files[n].rc !== '0'),
        `${c.id}: expected the guest to boot and fail every NoCloud fetch; problems:\n  ${p.join('\n  ')}\n${report(o)}`,
      );
    } else {
      // iPXE reached the target and tried to log in (tgtd logged it), the target refused the
      // stranger (no session; tgt answers "target not found", which iPXE reports as "No such
      // device"), and nothing booted.
      assert.ok(
        !s.includes(DISK_MARKER) && /Could not open SAN device|Boot from SAN device \S+ failed/.test(flat(o.result?.serial ?? '')),
        `${c.id}: expected sanboot to fail for a refused initiator; problems:\n  ${p.join('\n  ')}\n${report(o)}`,
      );
      assert.ok(/Login request/.test(o.tgtdLog ?? ''), `${c.id}: iPXE never tried to log in to the target:\n${report(o)}`);
      assert.equal(o.sessions ?? [], [], `${c.id}: the target accepted a session:\n${report(o)}`);
    }
  });
}

test.run();
