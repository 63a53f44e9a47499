// The generated BMC scripts judged by BMC emulators harvgen did not write, driving real machines:
// OpenStack's sushy-tools (Redfish, its libvirt driver) and virtualbmc (IPMI), as published on
// PyPI and installed unpatched (scripts/install-bmc-emulators.sh, .ci/bmc-emulators.txt), over
// libvirt domains booted by OVMF (UEFI) or SeaBIOS (BIOS) under TCG (test/real/helpers/virt.ts).
//
// Per machine: the boot lab of the ISO tests (a network namespace whose tap holds the nodes'
// gateway, 10.0.5.1/24, and the boot server on another network, 10.0.9.5/24, with the generated
// nginx), a libvirtd of the test's own in that namespace, the machine's domain on the tap, and a
// BMC network (a namespace of its own behind a veth) where the emulator listens at the node's
// `bmc.address` and from where it fetches what it is asked to mount: nginx sees the BMC's own
// address, which the generated config allows the node's ISO to. The scripts run where an
// operator runs them (the lab's namespace), with the emulator's certificate as their CA
// (CURL_CA_BUNDLE) and a password with quotes, `$` and a backslash.
//
//   media-boot (sushy-tools): no DHCP server anywhere (a witness on port 67 answers nothing);
//     the BMC inserts the node's ISO, the machine boots it (the firmware connected only the CD),
//     takes its static address and fetches its script (both firmwares), kernel, initrd and
//     config from its own address, each equal to the tree's. sushy-tools keeps every boot
//     override (it reads back Continuous), so media-boot goes on only with --keep-override, and
//     the nodes are `state: install-once`;
//   pxe-once + power-cycle (sushy-tools, and virtualbmc through ipmitool): the generated dnsmasq
//     on the segment; the machine PXE-boots the node's script and config;
//   and the verbs around them: --dry-run (GET only), the refusal of a kept override without the
//     flag, eject twice (the second sends nothing), a kept CD override cleared by eject,
//     power-status and power-cycle from off and from on, a wrong password (nothing changes), an
//     ISO the BMC may not fetch (the BMC's own reason passed through), install.iso_url: local's
//     second slot, and the IPMI script against a BMC that cannot power-cycle.
// What the emulators cannot show is written in docs/install-without-pxe.md ("What is not proven").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { status } from '../../src/status/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { dhcpWitness } from './helpers/dhcp.ts';
import { requests } from './helpers/boot-log.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { startLab, type Lab } from './helpers/lab.ts';
import { mediaLoaders, mediaLoadersAvailable } from './helpers/media-loaders.ts';
import { biosMarkerDisk, DISK_MARKER, UEFI_DISK_PROGRAMS, uefiMarkerDisk } from './helpers/disks.ts';
import { nodeBootDone, nodeBootProblems } from './helpers/node-boot.ts';
import { describe, run, waitFor, type Daemon, type RunResult } from './helpers/proc.ts';
import { requireFetched, requireProgram, requireRoot } from './helpers/programs.ts';
import { cleanSerial, limiter } from './helpers/qemu.ts';
import { startSushyEmulator, sushyUnavailable, type RecordedRequest, type SushyEmulator } from './helpers/sushy-emulator.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { startVbmc, VBMCD, type Vbmc } from './helpers/vbmc.ts';
import { bmcNetwork, defineDomain, startLibvirt, type BmcNet, type Domain, type Libvirt } from './helpers/virt.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/media');
const GATEWAY = '10.0.5.1';
const USER = 'admin';
const PASSWORD = `pw'"$x\\y`;
/** Hard limits of one BMC-driven boot (two at once on 2 cores, TCG). */
const BOOT_MS = { bios: 150_000, uefi: 210_000 } as const;

type Firmware = 'bios' | 'uefi';
type Hostname = 'hv-m1' | 'os-m1';

/** One inventory the machines are built from: the ISO fixture, how its nodes boot and which BMC they have. */
interface Variant {
  firmware: Firmware;
  medium: 'iso' | 'network';
  bmc: 'redfish' | 'ipmi';
  /** install.iso_url: local on hv-m1 (v1.9): media-boot mounts the Harvester ISO in a second slot. */
  isoLocal?: true;
}

const variantKey = (v: Variant) => `${v.medium}-${v.firmware}-${v.bmc}${v.isoLocal ? '-isolocal' : ''}`;

/** The fixture as a variant: install-once nodes with the BMC given, their boot medium, the firmware. */
async function siteFor(v: Variant, loaders: string): Promise<SiteTree> {
  const dir = path.join(tempDir(`bmc-emu-${variantKey(v)}`), 'site');
  await cp(FIXTURE, dir, { recursive: true });
  const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as Record<string, any>;
  doc.boot.media_loaders = loaders;
  doc.boot.firmware = v.firmware;
  doc.defaults.medium = v.medium;
  // A kept override boots the node's script at every start: install-once boots the installed disk.
  doc.defaults.state = 'install-once';
  for (const n of doc.nodes) n.bmc = { ...(v.bmc === 'ipmi' ? { type: 'ipmi' } : {}), address: n.bmc.address };
  if (v.isoLocal) {
    doc.harvester.version = 'v1.9.0';
    doc.harvester.iso_url = 'http://10.0.9.5/real_media/release/harvester-v1.9.0-amd64.iso';
    doc.nodes[0].install = { iso_url: 'local' };
  }
  await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
  return (await buildFixtureTrees(`bmc-emu-${variantKey(v)}`, { site: dir })).site;
}

/** The inventory as the fixture writes it (the parts the rigs read). */
interface FixtureInput {
  defaults: { medium: string };
  nodes: { hostname: string; bmc: { address: string; type?: string } }[];
}
const inputOf = (tree: SiteTree) => tree.input as unknown as FixtureInput;

/** The BMC address of a node of the fixture. */
const bmcAddress = (tree: SiteTree, hostname: Hostname): string => inputOf(tree).nodes.find((n) => n.hostname === hostname)!.bmc.address;

/** A machine with its BMC, in its lab. */
interface Rig {
  tree: SiteTree;
  lab: Lab;
  lv: Libvirt;
  dom: Domain;
  net: BmcNet;
  sushy?: SushyEmulator;
  vbmc?: Vbmc;
  witness?: Daemon;
  bmcLog: string;
  /** Run the node's BMC script where the operator does (the lab's namespace). */
  script(args: readonly string[], env?: Record<string, string>): Promise<RunResult>;
  stop(): Promise<void>;
}

/**
 * Start a rig for `hostname` of `tree`: the lab (the generated dnsmasq only for network boots; a
 * DHCP witness otherwise), libvirtd, the domain, the BMC network and the emulator. `source`: the
 * address the BMC fetches from, when it is not its own (an ISO the BMC may not fetch).
 */
async function startRig(
  tree: SiteTree,
  hostname: Hostname,
  artifacts: { kernel: string; initrd: string },
  opts: { source?: string; serve?: Record<string, string>; disk?: string } = {},
): Promise<Rig> {
  const firmware = tree.manifest.boot.firmware as Firmware;
  const network = inputOf(tree).defaults.medium === 'network';
  const ipmi = inputOf(tree).nodes[0]!.bmc.type === 'ipmi';
  const node = tree.manifest.nodes.find((n) => n.hostname === hostname)!;
  const address = bmcAddress(tree, hostname);
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const lab = await startLab(tree, artifacts, {
      dnsmasq: network,
      addresses: [`${GATEWAY}/24`],
      serve: { '/real_media/os/vmlinuz': artifacts.kernel, '/real_media/os/initrd.img': artifacts.initrd, ...opts.serve },
    });
    stops.push(() => lab.stop());
    const witness = network ? undefined : dhcpWitness(lab.ns);
    if (witness) stops.push(() => witness.stop());
    const lv = await startLibvirt(lab.ns);
    stops.push(() => lv.stop());
    const dom = await defineDomain(lv, {
      name: hostname,
      firmware,
      mac: node.macs[0]!,
      tap: lab.tap,
      serial: path.join(lab.workDir, `${hostname}-serial.log`),
      dir: lab.workDir,
      ...(opts.disk ? { disk: opts.disk } : {}),
    });
    const net = await bmcNetwork(lab.ns, address, opts.source);
    stops.push(() => net.delete());
    const sushy = ipmi
      ? undefined
      : await startSushyEmulator({ user: USER, password: PASSWORD, driver: { libvirt: lv.uri }, ns: net.ns, listen: address });
    if (sushy) stops.push(() => sushy.stop());
    const vbmc = ipmi ? await startVbmc({ ns: net.ns, address, uri: lv.uri, domain: hostname, user: USER, password: PASSWORD }) : undefined;
    if (vbmc) stops.push(() => vbmc.stop());
    const bmcLog = path.join(lab.workDir, 'bmc.log');
    const file = path.join(tree.dir, 'bmc', `${hostname}.sh`);
    return {
      tree,
      lab,
      lv,
      dom,
      net,
      sushy,
      vbmc,
      witness,
      bmcLog,
      script: (args, env = {}) =>
        run(lab.ns.exec([file, ...args]), {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            BMC_USER: USER,
            BMC_PASSWORD: PASSWORD,
            ...(sushy ? { CURL_CA_BUNDLE: sushy.certFile } : {}),
            HARVGEN_BMC_POLL: '1',
            // A read-back that cannot hold (the emulator keeps every override) gives up sooner.
            HARVGEN_BMC_WAIT: '15',
            HARVGEN_BMC_LOG: bmcLog,
            ...env,
          },
          timeoutMs: 400_000,
        }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The serial console until `done` says the boot is over (default: the test initramfs's end), or the limit. */
async function watchBoot(
  dom: Domain,
  limitMs: number,
  done: (serial: string) => string | undefined = nodeBootDone,
): Promise<{ serial: string; ended?: string }> {
  let serial = '';
  let ended: string | undefined;
  await waitFor(
    () => {
      serial = existsSync(dom.serial) ? readFileSync(dom.serial, 'latin1') : '';
      ended = done(serial);
      return ended !== undefined;
    },
    limitMs,
    500,
  );
  return { serial, ended };
}

// ---------------------------------------------------------------------------------------------
// Boots driven by a BMC: each verb, on both firmwares, for the Harvester and the generic node.

interface BootCase {
  id: string;
  variant: Variant;
  hostname: Hostname;
  /** The script's subcommands, in order. */
  steps: readonly (readonly string[])[];
  title: string;
}

const MEDIA_BOOT = [['--keep-override', 'media-boot']] as const;
const PXE_BOOT = [['pxe-once'], ['power-cycle']] as const;
const PXE_BOOT_KEPT = [['--keep-override', 'pxe-once'], ['power-cycle']] as const;

const BOOTS: BootCase[] = [
  {
    id: 'redfish-media-uefi-hv',
    variant: { firmware: 'uefi', medium: 'iso', bmc: 'redfish' },
    hostname: 'hv-m1',
    steps: MEDIA_BOOT,
    title: "sushy-tools, UEFI: media-boot mounts the Harvester node's ISO, which boots its installer line and fetches its config, no DHCP",
  },
  {
    id: 'redfish-media-bios-os',
    variant: { firmware: 'bios', medium: 'iso', bmc: 'redfish' },
    hostname: 'os-m1',
    steps: MEDIA_BOOT,
    title: "sushy-tools, BIOS: media-boot mounts the generic node's ISO, which boots its kernel and fetches its seed, no DHCP",
  },
  {
    id: 'redfish-media-uefi-os',
    variant: { firmware: 'uefi', medium: 'iso', bmc: 'redfish' },
    hostname: 'os-m1',
    steps: MEDIA_BOOT,
    title: "sushy-tools, UEFI: media-boot mounts the generic node's ISO, which boots its kernel and fetches its seed, no DHCP",
  },
  {
    id: 'redfish-media-bios-hv',
    variant: { firmware: 'bios', medium: 'iso', bmc: 'redfish' },
    hostname: 'hv-m1',
    steps: MEDIA_BOOT,
    title: "sushy-tools, BIOS: media-boot mounts the Harvester node's ISO, which boots its installer line and fetches its config, no DHCP",
  },
  {
    id: 'redfish-pxe-uefi-hv',
    variant: { firmware: 'uefi', medium: 'network', bmc: 'redfish' },
    hostname: 'hv-m1',
    steps: PXE_BOOT_KEPT,
    title: "sushy-tools, UEFI: pxe-once and power-cycle network-boot the Harvester node's script and config from the generated dnsmasq",
  },
  {
    id: 'redfish-pxe-bios-os',
    variant: { firmware: 'bios', medium: 'network', bmc: 'redfish' },
    hostname: 'os-m1',
    steps: PXE_BOOT_KEPT,
    title: "sushy-tools, BIOS: pxe-once and power-cycle network-boot the generic node's script and seed from the generated dnsmasq",
  },
  {
    id: 'ipmi-pxe-bios-hv',
    variant: { firmware: 'bios', medium: 'network', bmc: 'ipmi' },
    hostname: 'hv-m1',
    steps: PXE_BOOT,
    title: "virtualbmc (ipmitool), BIOS: pxe-once and power-cycle network-boot the Harvester node's script and config",
  },
  {
    id: 'ipmi-pxe-uefi-os',
    variant: { firmware: 'uefi', medium: 'network', bmc: 'ipmi' },
    hostname: 'os-m1',
    steps: PXE_BOOT,
    title: "virtualbmc (ipmitool), UEFI: pxe-once and power-cycle network-boot the generic node's script and seed",
  },
];

/** `HARVGEN_BMC_EMULATORS_ONLY=<id>,...,verbs`: only these boots (and the verb tests with `verbs`), a debugging aid. */
const ONLY = process.env.HARVGEN_BMC_EMULATORS_ONLY?.split(',').filter(Boolean);
const SELECTED = ONLY ? BOOTS.filter((c) => ONLY.includes(c.id)) : BOOTS;
const verbTest = (title: string, fn: () => Promise<void>) => {
  if (!ONLY || ONLY.includes('verbs')) test(title, fn);
};

interface BootOutcome {
  tree: SiteTree;
  runs: RunResult[];
  serial: string;
  ended?: string;
  access: string;
  dnsmasq: string;
  dhcp: string;
  bmcRequests: string;
  domainXml: string;
  bmcLog: string;
  /** What the Redfish script sent, bodies and all (sushy-tools' own log has no bodies). */
  recorded: RecordedRequest[];
  error?: unknown;
}

/**
 * What is wrong with the boot overrides a Redfish script sent ('' when nothing): each PATCH that
 * sets a boot target must ask for a one-time override, `BootSourceOverrideEnabled: Once`. sushy-tools
 * ignores that field (it keeps every override), so only the request itself shows it.
 */
function overrideProblem(recorded: readonly RecordedRequest[]): string {
  const overrides = recorded.filter((q) => q.method === 'PATCH' && q.body.includes('BootSourceOverrideTarget'));
  if (overrides.length === 0) return 'no boot override was sent';
  const bad = overrides.filter(
    (q) => (JSON.parse(q.body) as { Boot?: { BootSourceOverrideEnabled?: string } }).Boot?.BootSourceOverrideEnabled !== 'Once',
  );
  return bad.length ? `a boot override asked for other than Once: ${bad.map((q) => q.body).join(' ')}` : '';
}

interface Prepared {
  artifacts: { kernel: string; initrd: string };
  trees: Map<string, SiteTree>;
}

let prepared: Promise<Prepared> | undefined;
/** The test kernel and initramfs, and every variant's tree, once. */
function prepare(): Promise<Prepared> {
  prepared ??= (async () => {
    const kernel = await ensureKernel();
    const initrd = await buildInitramfs(kernel);
    const loaders = await mediaLoaders();
    const trees = new Map<string, SiteTree>();
    const variants = [...SELECTED.map((b) => b.variant), ...(!ONLY || ONLY.includes('verbs') ? VERB_VARIANTS : [])];
    for (const v of variants) if (!trees.has(variantKey(v))) trees.set(variantKey(v), await siteFor(v, loaders));
    return { artifacts: { kernel: kernel.vmlinuz, initrd }, trees };
  })();
  return prepared;
}

const slot = limiter(2);
const boots = new Map<string, Promise<BootOutcome>>();
/** A boot case's outcome, started (two at a time) the first time any boot case asks. */
function bootOutcome(id: string): Promise<BootOutcome> {
  if (boots.size === 0)
    for (const c of SELECTED) {
      const p = prepare().then((prep) => slot(() => runBoot(c, prep)));
      p.catch(() => undefined);
      boots.set(c.id, p);
    }
  return boots.get(id)!;
}

async function runBoot(c: BootCase, prep: Prepared): Promise<BootOutcome> {
  const tree = prep.trees.get(variantKey(c.variant))!;
  const out: BootOutcome = {
    tree,
    runs: [],
    serial: '',
    access: '',
    dnsmasq: '',
    dhcp: '',
    bmcRequests: '',
    domainXml: '',
    bmcLog: '',
    recorded: [],
  };
  let rig: Rig | undefined;
  try {
    rig = await startRig(tree, c.hostname, prep.artifacts);
    for (const step of c.steps) {
      const r = await rig.script(step);
      out.runs.push(r);
      if (r.code !== 0) break;
    }
    if (out.runs.every((r) => r.code === 0)) Object.assign(out, await watchBoot(rig.dom, BOOT_MS[c.variant.firmware]));
    else out.serial = existsSync(rig.dom.serial) ? readFileSync(rig.dom.serial, 'latin1') : '';
    out.domainXml = await rig.dom.dumpxml().catch((e: unknown) => String(e));
  } catch (err) {
    out.error = err;
  } finally {
    if (rig) {
      out.access = await rig.lab.accessLog();
      out.dnsmasq = rig.lab.dnsmasqLog();
      out.dhcp = rig.witness?.output() ?? '';
      out.bmcRequests = rig.sushy ? rig.sushy.daemon.output() : (rig.vbmc?.log() ?? '');
      out.bmcLog = existsSync(rig.bmcLog) ? readFileSync(rig.bmcLog, 'utf8') : '';
      out.recorded = rig.sushy?.recorded() ?? [];
      await rig.stop();
    }
  }
  return out;
}

function bootReport(o: BootOutcome, found: readonly string[]): string {
  return [
    `${found.length} problem(s):`,
    ...found.map((f) => `  - ${f}`),
    ...o.runs.map(describe),
    o.error ? `error: ${String(o.error)}` : '',
    `serial (last 4000 chars):\n${cleanSerial(o.serial).slice(-4000)}`,
    `nginx access log:\n${o.access}`,
    o.dnsmasq ? `dnsmasq:\n${o.dnsmasq.slice(-3000)}` : `DHCP witness:\n${o.dhcp}`,
    `BMC emulator (last 3000 chars):\n${o.bmcRequests.slice(-3000)}`,
    `domain XML:\n${o.domainXml}`,
  ].join('\n');
}

const bmcReady = () => {
  const why = sushyUnavailable();
  return (
    requireRoot() &&
    mediaLoadersAvailable() &&
    requireProgram('qemu-system-x86_64', 'nginx', 'ip', 'virsh', 'unshare', '/usr/sbin/libvirtd', 'ipmitool', 'curl', 'jq') &&
    requireFetched([...(why ? [why] : []), ...(existsSync(VBMCD) ? [] : [VBMCD])], `the BMC emulators: ${why ?? VBMCD}`)
  );
};

for (const c of SELECTED) {
  test(c.title, async () => {
    if (!bmcReady()) return;
    const o = await bootOutcome(c.id);
    const found: string[] = [];
    if (o.error) found.push(`the rig failed: ${String(o.error)}`);
    for (const r of o.runs) if (r.code !== 0) found.push(`${r.cmd} exited ${r.code}`);
    if (o.runs.length !== c.steps.length) found.push('not every step ran');
    if (!o.ended) found.push('the boot did not end within its limit');
    const staticIp = c.variant.medium === 'iso' || c.hostname === 'hv-m1';
    found.push(...(found.length ? [] : await nodeBootProblems(o.tree, c.hostname, o.serial, GATEWAY, { staticIp })));
    assert.equal(found, [], bootReport(o, found));
    const node = o.tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
    const got = requests(o.access);
    const fromNode = got.filter((q) => q.ip === node.ip);
    const mac = node.macs[0]!.replace(/:/g, '-');
    // Both firmwares, both ways in: the node's own script from its own address.
    assert.ok(
      fromNode.some((q) => q.path === `/real_media/ipxe/${mac}.ipxe` && q.status === 200),
      bootReport(o, ["the node's script was not fetched from its address"]),
    );
    if (c.variant.medium === 'iso') {
      // The BMC fetched the ISO from its own address; nothing asked DHCP an answer.
      const bmc = bmcAddress(o.tree, c.hostname);
      assert.ok(
        got.some((q) => q.ip === bmc && q.path === '/real_media/media/shared.boot.iso' && q.status === 200),
        bootReport(o, ['the BMC did not fetch the ISO from its address']),
      );
      assert.ok(/DHCP-WITNESS listening/.test(o.dhcp), bootReport(o, ['the DHCP witness did not listen']));
      assert.equal(
        new Set(got.filter((q) => q.ip !== bmc).map((q) => q.ip)),
        new Set([node.ip]),
        bootReport(o, ['a request came from another address than the node and its BMC']),
      );
      // sushy-tools keeps the override: the script said so and went on.
      assert.match(o.runs[0]!.stdout, /the BMC keeps the override \(BootSourceOverrideEnabled reads Continuous\)/, bootReport(o, []));
      assert.match(o.domainXml, /<disk type='file' device='cdrom'>/, bootReport(o, ['no CD in the domain']));
    }
    if (c.variant.bmc === 'redfish') {
      // What was asked: a one-time override (the emulator keeps it whatever it is asked).
      assert.is(overrideProblem(o.recorded), '', bootReport(o, [JSON.stringify(o.recorded)]));
    } else {
      // PXE: the generated dnsmasq answered the MAC and served the firmware's loader.
      assert.match(o.dnsmasq, new RegExp(`DHCPACK\\S* [^\\n]*${node.macs[0]!}`, 'i'), bootReport(o, ['dnsmasq acked no DHCP of the node']));
      assert.ok(
        got.some((q) => q.path === '/real_media/boot.ipxe' && q.status === 200),
        bootReport(o, ['boot.ipxe was not fetched']),
      );
    }
    // Every change the script made is in its log, with exit 0.
    for (const step of c.steps)
      assert.match(o.bmcLog, new RegExp(`\\t${c.hostname}\\t${step.at(-1)!}\\t0\\t`), bootReport(o, [`no log line of ${step.join(' ')}`]));
  });
}

// ---------------------------------------------------------------------------------------------
// The verbs around the boots, against one machine each (no boot to its end).

const VERB_VARIANTS: Variant[] = [
  { firmware: 'uefi', medium: 'iso', bmc: 'redfish' },
  { firmware: 'uefi', medium: 'iso', bmc: 'redfish', isoLocal: true },
  { firmware: 'bios', medium: 'network', bmc: 'ipmi' },
];

/** A rig for a verb test (serial to the verb tests' limiter: they wait for the boots to finish first). */
async function withRig<T>(
  v: Variant,
  hostname: Hostname,
  fn: (rig: Rig) => Promise<T>,
  opts: Parameters<typeof startRig>[3] = {},
): Promise<T> {
  const prep = await prepare();
  // After the boots, so the two cores are not shared by more than two guests.
  await Promise.allSettled(SELECTED.map((c) => bootOutcome(c.id)));
  const rig = await startRig(prep.trees.get(variantKey(v))!, hostname, prep.artifacts, opts);
  try {
    return await fn(rig);
  } finally {
    await rig.stop();
  }
}

/** The emulator's requests since a mark, as `METHOD path status` lines. */
const since = (s: SushyEmulator, mark: number) => s.requestsSince(mark).map((q) => `${q.method} ${q.path} ${q.status}`);

const rigReport = (what: string, r: RunResult, extra = ''): string => `${what}\n${describe(r)}${extra ? `\n${extra}` : ''}`;

verbTest(
  'sushy-tools: --dry-run media-boot sends GET only and changes nothing; without --keep-override media-boot stops at the kept override, before the reset',
  async () => {
    if (!bmcReady()) return;
    await withRig({ firmware: 'uefi', medium: 'iso', bmc: 'redfish' }, 'hv-m1', async (rig) => {
      const s = rig.sushy!;
      // sushy-tools writes its BIOS settings into the domain at its first read of the system (its
      // own metadata); what the test compares is the rest.
      const bare = (xml: string) => xml.replace(/ *<metadata[\s\S]*<\/metadata>\n?/, '');
      const before = bare(await rig.dom.dumpxml());
      let mark = s.mark();
      const dry = await rig.script(['--dry-run', 'media-boot']);
      assert.is(dry.code, 0, rigReport('dry run', dry));
      assert.match(dry.stdout, /dry run: nothing was changed\n$/);
      assert.match(dry.stdout, /would POST \S+InsertMedia/);
      assert.equal(
        since(s, mark).filter((l) => !l.startsWith('GET ')),
        [],
        rigReport('a dry run sent a change', dry, since(s, mark).join('\n')),
      );
      assert.is(bare(await rig.dom.dumpxml()), before);
      assert.is(await rig.dom.state(), 'shut off');
      // The default: an override the BMC keeps is exit 3, the machine is not reset, and what the
      // run changed is undone: one override asked for (no second write, no boot mode), then
      // cleared, the ISO ejected again.
      mark = s.mark();
      const from = s.recorded().length;
      const kept = await rig.script(['media-boot']);
      assert.is(kept.code, 3, rigReport('media-boot without --keep-override', kept));
      assert.match(
        kept.stderr,
        /BootSourceOverrideEnabled reads Continuous, not Once: this BMC keeps boot overrides \(the node would boot from Cd at every start\), so the override was cleared, \S+\/VirtualMedia\/Cd ejected again; --keep-override accepts that/,
      );
      assert.not.ok(
        since(s, mark).some((l) => /Reset/.test(l)),
        rigReport('a reset was sent', kept, since(s, mark).join('\n')),
      );
      assert.is(await rig.dom.state(), 'shut off');
      const asked = s.recorded(from).filter((q) => q.method === 'PATCH' && q.body.includes('"Once"'));
      assert.is(asked.length, 1, JSON.stringify(s.recorded(from)));
      assert.not.match(asked[0]!.body, 'BootSourceOverrideMode');
      const left = await rig.dom.dumpxml();
      assert.not.match(left, /device='cdrom'/, 'the ISO was ejected again');
      assert.match((await s.get(`/redfish/v1/Systems/${rig.dom.uuid}`)).text, /"BootSourceOverrideTarget": "Hdd"/);
      // --keep-override is refused for a node that installs at every start (and nothing is sent).
      mark = s.mark();
      const install = await run(
        rig.lab.ns.exec([
          'sh',
          '-c',
          `grep -q "^node_state=install-once$" "$1" && sed "s/^node_state=install-once$/node_state=install/" "$1" > "$2" && chmod +x "$2" && exec "$2" --keep-override media-boot`,
          'sh',
          path.join(rig.tree.dir, 'bmc/hv-m1.sh'),
          path.join(tempDir('bmc-state'), 'hv-m1.sh'),
        ]),
        { env: { PATH: process.env.PATH ?? '', BMC_USER: USER, BMC_PASSWORD: PASSWORD } },
      );
      assert.is(install.code, 2, rigReport('--keep-override on state: install', install));
      assert.match(install.stderr, /has state: install, whose script installs at every start/);
      assert.equal(since(s, mark), []);
    });
  },
);

verbTest(
  'sushy-tools: clear-override returns a kept CD override to the disk; eject empties the CD, and a second sends nothing; power-status and power-cycle from off and on',
  async () => {
    if (!bmcReady()) return;
    await withRig({ firmware: 'uefi', medium: 'iso', bmc: 'redfish' }, 'hv-m1', async (rig) => {
      const s = rig.sushy!;
      const off = await rig.script(['power-status']);
      assert.equal([off.code, off.stdout], [0, 'hv-m1: Off\n'], rigReport('power-status', off));
      const boot = await rig.script(['--keep-override', 'media-boot']);
      assert.is(boot.code, 0, rigReport('media-boot', boot));
      assert.match(boot.stdout, /boot from Cd at every start until clear-override, On/);
      assert.is(await rig.dom.state(), 'running');
      const id = (await rig.lv.virsh(['domid', 'hv-m1'])).trim();
      const cycle = await rig.script(['power-cycle']);
      assert.equal(
        [cycle.code, /ForceRestart \(was On\); PowerState reads On/.test(cycle.stdout)],
        [0, true],
        rigReport('power-cycle from On', cycle),
      );
      assert.is.not((await rig.lv.virsh(['domid', 'hv-m1'])).trim(), id, 'ForceRestart started the domain anew');
      // The kept override back to normal: sushy-tools refuses Disabled (it wants a target), so the disk.
      let mark = s.mark();
      const cleared = await rig.script(['clear-override']);
      assert.is(cleared.code, 0, rigReport('clear-override', cleared));
      assert.match(
        cleared.stdout,
        /the BMC refuses BootSourceOverrideEnabled Disabled \(HTTP 400: [^)]*BootSourceOverrideTarget[^)]*\): the disk \(Hdd\) as its override instead/,
      );
      assert.match(cleared.stdout, /hv-m1: boot override cleared \(was Cd, Continuous; reads Hdd, Continuous\)\n$/);
      assert.is(
        since(s, mark).filter((l) => l.startsWith('PATCH ')).length,
        2,
        `Disabled, refused, then Hdd:\n${since(s, mark).join('\n')}`,
      );
      const again = await rig.script(['clear-override']);
      assert.equal(
        [again.code, again.stdout],
        [0, 'hv-m1: no boot override to clear (Hdd, Continuous)\n'],
        rigReport('clear-override again', again),
      );
      mark = s.mark();
      const eject = await rig.script(['eject']);
      assert.is(eject.code, 0, rigReport('eject', eject));
      assert.match(
        eject.stdout,
        /ejected http:\/\/10\.0\.9\.5\/real_media\/media\/shared\.boot\.iso from \S+\/VirtualMedia\/Cd; read back: empty/,
      );
      assert.ok(
        since(s, mark).some((l) => /^POST \S+EjectMedia 20\d$/.test(l)),
        since(s, mark).join('\n'),
      );
      assert.not.match(await rig.dom.dumpxml(), /device='cdrom'/, 'sushy-tools took the CD out of the domain');
      mark = s.mark();
      const second = await rig.script(['eject']);
      assert.is(second.code, 0, rigReport('second eject', second));
      assert.match(second.stdout, /is empty: nothing to eject/);
      assert.equal(
        since(s, mark).filter((l) => !l.startsWith('GET ')),
        [],
        'the second eject sent no change',
      );
      const log = readFileSync(rig.bmcLog, 'utf8');
      assert.match(log, /\thv-m1\tmedia-boot\t0\t/);
      assert.match(log, /\thv-m1\tclear-override\t0\t/);
      assert.match(log, /\thv-m1\teject\t0\t[^\n]*nothing to eject/);
      assert.not.match(log, /power-status/, 'reads are not logged');
    });
  },
);

const INSTALLED = [
  {
    firmware: 'uefi',
    title:
      'sushy-tools, UEFI: with the override kept, an installed install-once node boots its ISO, whose script finds the installed system and boots the disk, installing nothing',
  },
  {
    firmware: 'bios',
    title:
      'sushy-tools, BIOS: with the override kept, an installed install-once node boots its ISO, whose script finds the installed system and boots the disk, installing nothing',
  },
] as const;

for (const { firmware, title } of INSTALLED)
  verbTest(title, async () => {
    if (!bmcReady() || !requireProgram(...UEFI_DISK_PROGRAMS)) return;
    const disk = firmware === 'uefi' ? await uefiMarkerDisk() : await biosMarkerDisk();
    await withRig(
      { firmware, medium: 'iso', bmc: 'redfish' },
      'hv-m1',
      async (rig) => {
        const boot = await rig.script(['--keep-override', 'media-boot']);
        assert.is(boot.code, 0, rigReport('media-boot', boot));
        const { serial, ended } = await watchBoot(rig.dom, BOOT_MS[firmware], (t) =>
          cleanSerial(t).includes(DISK_MARKER) ? 'the disk booted' : nodeBootDone(t),
        );
        const got = requests(await rig.lab.accessLog());
        const report = `${rigReport('media-boot', boot)}\nserial:\n${cleanSerial(serial).slice(-3000)}\naccess:\n${JSON.stringify(got)}`;
        assert.is(ended, 'the disk booted', report);
        assert.ok(
          got.some((q) => q.ip === '10.0.5.11' && q.path === '/real_media/ipxe/52-54-00-4d-00-01.ipxe' && q.status === 200),
          report,
        );
        assert.not.ok(
          got.some((q) => q.path.includes('/artifacts/')),
          `the node fetched its installer: ${report}`,
        );
      },
      { disk },
    );
  });

verbTest(
  'sushy-tools: a wrong password changes nothing (the BMC says 401); an ISO the BMC may not fetch fails with the reason the BMC gives',
  async () => {
    if (!bmcReady()) return;
    // The BMC fetches from 10.0.5.209, which nginx does not allow the node's ISO to (only its bmc.address).
    await withRig(
      { firmware: 'uefi', medium: 'iso', bmc: 'redfish' },
      'hv-m1',
      async (rig) => {
        const s = rig.sushy!;
        let mark = s.mark();
        const wrong = await rig.script(['--keep-override', 'media-boot'], { BMC_PASSWORD: 'not-the-password' });
        assert.is(wrong.code, 1, rigReport('wrong password', wrong));
        assert.match(wrong.stderr, /HTTP 401/);
        assert.equal(
          since(s, mark).filter((l) => !/ 401$/.test(l) && !/^GET \/redfish\/v1\/? 200$/.test(l)),
          [],
          'only refused requests',
        );
        assert.is(await rig.dom.state(), 'shut off');
        mark = s.mark();
        const refused = await rig.script(['--keep-override', 'media-boot']);
        assert.is(refused.code, 1, rigReport('an ISO the BMC may not fetch', refused));
        assert.match(refused.stderr, /InsertMedia: HTTP 400: Cannot download virtual media: got error 403 from the server/);
        const access = requests(await rig.lab.accessLog());
        assert.ok(
          access.some((q) => q.ip === '10.0.5.209' && q.path === '/real_media/media/shared.boot.iso' && q.status === 403),
          JSON.stringify(access),
        );
        assert.not.ok(
          since(s, mark).some((l) => /Reset/.test(l)),
          'no reset after the refused insert',
        );
        assert.is(await rig.dom.state(), 'shut off');
      },
      { source: '10.0.5.209' },
    );
  },
);

verbTest(
  "sushy-tools: install.iso_url: local puts the Harvester ISO in the BMC's second slot (its USB stick), the boot ISO in the CD; eject empties both",
  async () => {
    if (!bmcReady()) return;
    const iso = path.join(tempDir('bmc-release'), 'harvester-v1.9.0-amd64.iso');
    await writeFile(iso, 'not a real Harvester ISO: the BMC only mounts it\n');
    await withRig(
      { firmware: 'uefi', medium: 'iso', bmc: 'redfish', isoLocal: true },
      'hv-m1',
      async (rig) => {
        const boot = await rig.script(['--keep-override', 'media-boot']);
        assert.is(boot.code, 0, rigReport('media-boot with iso_url: local', boot));
        assert.match(boot.stdout, /the Harvester ISO in \S+\/VirtualMedia\/Floppy/);
        const xml = await rig.dom.dumpxml();
        // sushy-tools stores each download as a volume named after the URL's file name.
        assert.match(xml, /<disk type='file' device='cdrom'>\s*<driver[^>]*>\s*<source file='[^']*\/shared-boot-iso-/, xml);
        assert.match(xml, /<disk type='file' device='floppy'>\s*<driver[^>]*>\s*<source file='[^']*\/harvester-v1-9-0-amd64-iso-/, xml);
        const eject = await rig.script(['eject']);
        assert.is(eject.code, 0, rigReport('eject', eject));
        assert.match(eject.stdout, /ejected \S+shared\.boot\.iso from \S+\/VirtualMedia\/Cd/);
        assert.match(eject.stdout, /ejected \S+harvester-v1\.9\.0-amd64\.iso from \S+\/VirtualMedia\/Floppy/);
        assert.not.match(await rig.dom.dumpxml(), /device='(cdrom|floppy)'/);
      },
      { serve: { '/real_media/release/harvester-v1.9.0-amd64.iso': iso } },
    );
  },
);

verbTest(
  'virtualbmc (ipmitool): power-status, --dry-run pxe-once sends nothing, a wrong password changes nothing, power-cycle of a running machine is off then on',
  async () => {
    if (!bmcReady()) return;
    await withRig({ firmware: 'bios', medium: 'network', bmc: 'ipmi' }, 'hv-m1', async (rig) => {
      const off = await rig.script(['power-status']);
      assert.equal([off.code, off.stdout], [0, 'hv-m1: off\n'], rigReport('power-status', off));
      const dry = await rig.script(['--dry-run', 'pxe-once']);
      assert.is(dry.code, 0, rigReport('dry run', dry));
      assert.match(dry.stdout, /would run ipmitool -I lanplus -H 10\.0\.5\.201 -p 623 -U admin -E chassis bootdev pxe\n/);
      assert.not.match(await rig.dom.dumpxml(), /<boot dev='network'\/>/, 'the dry run changed the boot device');
      const wrong = await rig.script(['pxe-once'], { BMC_PASSWORD: 'not-the-password' });
      assert.is(wrong.code, 1, rigReport('wrong password', wrong));
      assert.match(wrong.stderr, /Unable to establish IPMI v2 \/ RMCP\+ session/);
      assert.not.match(await rig.dom.dumpxml(), /<boot dev='network'\/>/);
      const on = await rig.script(['power-cycle']);
      assert.equal([on.code, /power on \(was off\); power reads on/.test(on.stdout)], [0, true], rigReport('power-cycle from off', on));
      const id = (await rig.lv.virsh(['domid', 'hv-m1'])).trim();
      // virtualbmc answers `chassis power cycle` with "Invalid data field in request" (pyghmi has no
      // power cycle): the script powers the machine off, then on.
      const cycle = await rig.script(['power-cycle']);
      assert.is(cycle.code, 0, rigReport('power-cycle from on', cycle));
      assert.match(cycle.stdout, /the BMC refuses chassis power cycle[^\n]*: power off, then on/);
      assert.is.not((await rig.lv.virsh(['domid', 'hv-m1'])).trim(), id, 'the domain was started anew');
    });
  },
);

verbTest('mutation: a Redfish script that asks for a kept override (Continuous, not Once) is caught by what it sent', async () => {
  if (!bmcReady()) return;
  await withRig({ firmware: 'uefi', medium: 'iso', bmc: 'redfish' }, 'hv-m1', async (rig) => {
    const s = rig.sushy!;
    const good = await rig.script(['--keep-override', 'pxe-once']);
    assert.is(good.code, 0, rigReport('pxe-once', good));
    assert.is(overrideProblem(s.recorded()), '', JSON.stringify(s.recorded()));
    const from = s.recorded().length;
    const mutant = path.join(tempDir('bmc-mutant'), 'hv-m1.sh');
    const script = readFileSync(path.join(rig.tree.dir, 'bmc/hv-m1.sh'), 'utf8');
    const changed = script.replace('BootSourceOverrideEnabled: "Once"}', 'BootSourceOverrideEnabled: "Continuous"}');
    assert.is.not(changed, script, 'the mutation applies');
    await writeFile(mutant, changed, { mode: 0o755 });
    const r = await run(rig.lab.ns.exec([mutant, '--keep-override', 'pxe-once']), {
      env: { PATH: process.env.PATH ?? '', BMC_USER: USER, BMC_PASSWORD: PASSWORD, CURL_CA_BUNDLE: s.certFile, HARVGEN_BMC_POLL: '1' },
    });
    // The emulator cannot tell (it keeps every override): the script ends 0, and only the request shows it.
    assert.is(r.code, 0, rigReport('the mutant', r));
    assert.match(
      overrideProblem(s.recorded(from)),
      /a boot override asked for other than Once: .*"BootSourceOverrideEnabled":"Continuous"/,
    );
  });
});

if (SELECTED.some((c) => c.id === 'redfish-media-uefi-hv'))
  test('status: a media-boot on UEFI counts from the node script its iPXE fetched (last_boot), and the BMC fetching the ISO apart', async () => {
    if (!bmcReady()) return;
    const o = await bootOutcome('redfish-media-uefi-hv');
    assert.ok(o.access !== '', 'the boot left an access log');
    const log = path.join(tempDir('bmc-status'), 'access.log');
    await writeFile(log, o.access);
    const r = await status({ sites: [o.tree.sourceDir], logs: [log] });
    const n = r.nodes.find((x) => x.hostname === 'hv-m1')!;
    assert.ok(n.last_boot, JSON.stringify(n));
    assert.is(n.last_boot!.ip, '10.0.5.11');
    assert.is(n.verdict, 'installing', JSON.stringify(n));
    assert.equal(n.medium, { count: 1, last: n.medium!.last, status: 200, ip: '10.0.5.201' }, JSON.stringify(n));
    assert.is(n.fetches.script?.count, 1);
  });

test.run();
