// A real iPXE client boots from the generated tree. Per boot: a fresh network namespace with a
// tap on the boot server's address, the generated dnsmasq config (test copy) and the generated
// nginx server block on its generated listen address, and QEMU (TCG) with the node's MAC on the
// tap. Instead of Harvester's installer, Debian's kernel and a busybox initramfs built by the
// test print /proc/cmdline, bring up the network as `ip=` says, fetch
// harvester.install.config_url and power off (see test/fixtures/real/initramfs/init).
//
// Wiring per firmware (all netns + tap, no slirp):
//   BIOS: SeaBIOS -> the NIC's iPXE option ROM (ipxe-qemu) -> DHCP as iPXE -> boot.ipxe over HTTP.
//   UEFI: OVMF's own PXE (NIC without option ROM) -> DHCP arch 7 -> ipxe.efi over TFTP from the
//         generated dhcp-boot line -> iPXE -> DHCP as iPXE -> boot.ipxe over HTTP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, KERNEL_DIR } from './helpers/initramfs.ts';
import { withLab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, clusterSecrets, getTrees, copyTree, type SiteKey, type SiteTree, type ManifestNode } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';
import { status } from '../../src/status/index.ts';
import { echoes, markers, requests, uefiLoaderProblem } from './helpers/boot-log.ts';

/** Hard limits per boot (measured: BIOS ~11 s, UEFI ~22 s alone; two run at once). */
const LIMIT_MS = { bios: 90_000, uefi: 150_000 } as const;
/** After the unknown-machine message: how long to keep watching that nothing else boots. */
const UNKNOWN_GRACE_MS = 4_000;

const UNKNOWN_MAC = '52:54:00:ff:ee:dd';

type Kind = 'install' | 'unknown' | 'no-initrd';

interface BootCase {
  id: string;
  title: string;
  key: SiteKey;
  kind: Kind;
  /** Node hostname (install / no-initrd) or undefined (unknown MAC). */
  hostname?: string;
  /** Which of the node's MACs boots (default the first). */
  macIndex?: number;
  /** Build the site with `nginx.file_key` (keyed names: DHCP hands the MAC its own script's URL). */
  keyed?: true;
}

// Longest first, so two lanes finish together.
const CASES: BootCase[] = [
  {
    id: 'uefi-create',
    key: 'uefi',
    kind: 'install',
    hostname: 'hv-u1',
    title: 'UEFI (OVMF): the create node hv-u1 (static ip=) boots its own installer command line and fetches its own create config',
  },
  {
    id: 'uefi-join',
    key: 'uefi',
    kind: 'install',
    hostname: 'hv-u2',
    title: 'UEFI (OVMF): the join node hv-u2 (ip=dhcp) boots its own installer command line and fetches its own join config',
  },
  {
    id: 'x-join',
    key: 'location_x',
    kind: 'install',
    hostname: 'hv-2',
    title: 'UEFI (OVMF), example site location_x: the join node hv-2 boots and fetches its own join config',
  },
  {
    id: 'y-create-2nd-nic',
    key: 'location_y',
    kind: 'install',
    hostname: 'y-hv-01',
    macIndex: 1,
    title:
      'UEFI (OVMF), example site location_y: the create node y-hv-01 boots from its second NIC (snponly.efi, server on port 8080, static bond address)',
  },
  {
    id: 'uefi-no-initrd',
    key: 'uefi',
    kind: 'no-initrd',
    hostname: 'hv-u1',
    title: 'mutation: a UEFI node script without initrd= on the kernel line fails the boot check',
  },
  {
    id: 'x-unknown',
    key: 'location_x',
    kind: 'unknown',
    title: 'UEFI (OVMF), example site location_x: an unknown MAC gets unknown.ipxe and boots no installer',
  },
  {
    id: 'bios-create',
    key: 'bios',
    kind: 'install',
    hostname: 'hv-b1',
    title: 'BIOS (SeaBIOS): the create node hv-b1 (ip=dhcp) boots its own installer command line and fetches its own create config',
  },
  {
    id: 'bios-join',
    key: 'bios',
    kind: 'install',
    hostname: 'hv-b2',
    title: 'BIOS (SeaBIOS): the join node hv-b2 (static ip=) boots its own installer command line and fetches its own join config',
  },
  {
    id: 'bios-keyed',
    key: 'bios',
    kind: 'install',
    hostname: 'hv-b2',
    keyed: true,
    title:
      "BIOS (SeaBIOS), nginx.file_key: DHCP hands iPXE the URL of the node's keyed script (no boot.ipxe), which fetches its keyed config",
  },
  { id: 'bios-unknown', key: 'bios', kind: 'unknown', title: 'BIOS (SeaBIOS): an unknown MAC gets unknown.ipxe and boots no installer' },
];

/** Everything one boot produced, for the assertions and the failure report. */
interface Outcome {
  tree: SiteTree;
  node?: ManifestNode;
  mac: string;
  result?: BootResult;
  access: string;
  dnsmasq: string;
  error?: unknown;
}

/** Every boot, started on first use, two at a time; each test awaits its own. */
const outcome = lazyBoots(
  CASES,
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await getTrees() };
  },
  (c, { kernel, initrd, trees }) => runCase(c, trees[c.key], { kernel, initrd }),
);

/** `base`'s site built again with a file key (nginx.file_key from a secret file), as a deploy tree. */
async function keyedVariant(base: SiteTree): Promise<SiteTree> {
  const dir = path.join(tempDir('boot-keyed'), base.site);
  await cp(base.sourceDir, dir, { recursive: true });
  const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  doc.nginx = { ...(doc.nginx ?? {}), file_key: { file: 'secrets/file-key' } };
  await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
  await mkdir(path.join(dir, 'secrets'), { recursive: true });
  await writeFile(path.join(dir, 'secrets/file-key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return (await buildFixtureTrees('boot-keyed', { keyed: dir })).keyed;
}

async function runCase(c: BootCase, base: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  let tree = c.keyed ? await keyedVariant(base) : base;
  const node = c.hostname ? tree.manifest.nodes.find((n) => n.hostname === c.hostname) : undefined;
  if (c.hostname && !node) throw new Error(`${tree.label}: no node ${c.hostname} in manifest.json`);
  const mac = node ? node.macs[c.macIndex ?? 0]! : UNKNOWN_MAC;
  if (!mac) throw new Error(`${tree.label}: ${c.hostname} has no MAC #${c.macIndex}`);
  if (c.kind === 'no-initrd') {
    tree = await copyTree(base, 'no-initrd');
    const script = path.join(tree.dir, node!.ipxe.find((x) => x.mac === mac)!.path);
    const text = await readFile(script, 'utf8');
    const broken = text.replace(/^(kernel .*?) initrd=\S+/m, '$1');
    if (broken === text) throw new Error(`mutation did not apply: no initrd= on the kernel line of ${script}:\n${text}`);
    await writeFile(script, broken);
  }
  const firmware = tree.manifest.boot.firmware;
  const out: Outcome = { tree, node, mac, access: '', dnsmasq: '' };
  try {
    await withLab(tree, artifacts, async (lab) => {
      const unknownText = c.kind === 'unknown' ? await unknownMessage(tree) : undefined;
      let doneAt = 0;
      out.result = await bootVm({
        firmware,
        mac,
        ns: lab.ns,
        tap: lab.tap,
        workDir: lab.workDir,
        timeoutMs: LIMIT_MS[firmware],
        stopWhen: (raw) => {
          const s = cleanSerial(raw);
          for (const fatal of ['Kernel panic', 'No bootable device', 'could not load the installer', 'Shell> ', 'HARVGEN-ERROR']) {
            if (s.includes(fatal)) return fatal;
          }
          if (unknownText && s.includes(unknownText)) {
            doneAt ||= Date.now();
            if (Date.now() - doneAt > UNKNOWN_GRACE_MS) return 'unknown-machine message seen';
          }
          if (c.kind === 'unknown' && /HARVGEN-CMDLINE|Linux version/.test(s)) return 'a kernel booted';
          return undefined;
        },
      });
      out.access = await lab.accessLog();
      out.dnsmasq = lab.dnsmasqLog();
    });
  } catch (err) {
    out.error = err;
  }
  return out;
}

/** The first line unknown.ipxe echoes, up to its first variable (what the serial log must show). */
async function unknownMessage(tree: SiteTree): Promise<string> {
  const text = await readFile(path.join(tree.dir, 'unknown.ipxe'), 'utf8');
  const first = echoes(text)[0];
  if (first === undefined) throw new Error(`unknown.ipxe echoes nothing recognisable:\n${text}`);
  return first;
}

/** The GET requests of nginx's access log (what iPXE and the test initramfs ask for). */
const gets = (access: string) => requests(access).filter((r) => r.method === 'GET');

/** Everything wrong with an install boot. Empty = the node booted exactly as generated. */
async function installProblems(o: Outcome): Promise<string[]> {
  const { tree, node, result } = o;
  const p: string[] = [];
  if (!result || !node) return ['no boot result'];
  if (result.timedOut) p.push(`timed out after ${result.ms} ms`);
  if (result.stoppedBecause) p.push(`stopped early: "${result.stoppedBecause}" on the serial console`);
  const m = markers(result.serial);
  if (!m.cmdline) return [...p, 'the test kernel never reached /init (no HARVGEN-CMDLINE on the serial console)'];
  const args = m.cmdline.split(/\s+/);
  const input = tree.input as unknown as { boot: { console?: string[] }; cluster: unknown };
  const expectArg = (want: string, why: string): void => {
    if (!args.includes(want)) p.push(`kernel command line lacks ${want} (${why})`);
  };
  expectArg(`harvester.install.config_url=${node.config!.url}`, "the node's own config");
  expectArg(`root=live:${tree.manifest.artifacts!.rootfs}`, 'the release rootfs');
  expectArg('harvester.install.automatic=true', 'unattended install');
  const consoles = args.filter((a) => a.startsWith('console='));
  const wantConsoles = (input.boot.console ?? ['tty1']).map((c) => `console=${c}`);
  if (consoles.join(' ') !== wantConsoles.join(' '))
    p.push(`consoles ${consoles.join(' ') || '(none)'}, expected ${wantConsoles.join(' ')}`);
  const ipArgs = args.filter((a) => a.startsWith('ip='));
  if (ipArgs.length !== 1) p.push(`expected exactly one ip= argument, got ${ipArgs.join(' ') || 'none'}`);
  else if (node.method === 'dhcp' && !/^ip=([A-Za-z0-9_.@+-]+:)?dhcp$/.test(ipArgs[0]!))
    p.push(`${ipArgs[0]} for a dhcp node, expected ip=dhcp`);
  else if (node.method === 'static') {
    const f = ipArgs[0]!.slice(3).split(':');
    const gw = (tree.input.network as { gateway: string }).gateway;
    if (f[0] !== node.ip || f[2] !== gw || !f[3] || f[4] !== node.hostname || !['none', 'off'].includes(f[6] ?? '')) {
      p.push(`${ipArgs[0]} is not ip=${node.ip}::${gw}:<mask>:${node.hostname}:<if>:none`);
    }
  }
  if (tree.manifest.boot.firmware === 'uefi' && !args.some((a) => a.startsWith('initrd='))) p.push('UEFI kernel line without initrd=');
  // BOOTIF pins the installer's network to the NIC that booted (the one the guest sees).
  const nicMac = /^HARVGEN-NIC: \S+ ([0-9a-f:]{17})$/m.exec(cleanSerial(result.serial))?.[1];
  const bootif = args.filter((a) => a.startsWith('BOOTIF='));
  if (!nicMac) p.push('the guest reported no NIC');
  else if (bootif.join(' ') !== `BOOTIF=01-${nicMac.replace(/:/g, '-')}`)
    p.push(`${bootif.join(' ') || 'no BOOTIF'}, expected BOOTIF=01-${nicMac.replace(/:/g, '-')}`);
  for (const secret of clusterSecrets(tree)) {
    if (m.cmdline.includes(secret)) p.push('a cluster secret is on the kernel command line');
  }
  const ipLine = m.lines.find((l) => l.startsWith('HARVGEN-IP:')) ?? '';
  if (node.ip && !ipLine.includes(`inet ${node.ip}/`)) p.push(`guest address: "${ipLine}", expected ${node.ip}`);
  const rc = m.lines.find((l) => l.startsWith('HARVGEN-FETCH-RC:'));
  if (rc !== 'HARVGEN-FETCH-RC: 0') p.push(`config fetch: ${rc ?? 'never attempted'}`);
  const want = await readFile(path.join(tree.dir, node.config!.path));
  if (!m.config) p.push('no config printed on the serial console');
  else if (!m.config.equals(want)) p.push(`the guest fetched a config that differs from ${node.config!.path}`);
  if (m.sha !== createHash('sha256').update(want).digest('hex')) p.push(`sha256 in the guest ${m.sha} != ${node.config!.path}`);
  if (m.config) {
    const cfg = parseYaml(m.config.toString('utf8')) as { install?: { mode?: string }; os?: { hostname?: string } };
    if (cfg.install?.mode !== node.role) p.push(`fetched config has install.mode ${cfg.install?.mode}, expected ${node.role}`);
    if (cfg.os?.hostname !== node.hostname) p.push(`fetched config has os.hostname ${cfg.os?.hostname}, expected ${node.hostname}`);
  }
  const reqs = gets(o.access);
  const keyed = tree.manifest.boot.file_names === 'keyed';
  // With keyed names DHCP names the node's own script: boot.ipxe is never fetched.
  if (keyed && reqs.some((r) => r.path === new URL(tree.manifest.boot.entry_url).pathname))
    p.push('a node with a keyed script fetched boot.ipxe (DHCP did not hand it its own script)');
  if (keyed && !/-[0-9a-f]{32}\.yaml$/.test(node.config!.path)) p.push(`${node.config!.path} is not a keyed name`);
  const need = [
    ...(keyed ? [] : [tree.manifest.boot.entry_url]),
    node.ipxe.find((s) => s.mac === o.mac)!.url,
    tree.manifest.artifacts!.kernel,
    tree.manifest.artifacts!.initrd,
    node.config!.url,
  ];
  for (const url of need) {
    const path0 = new URL(url).pathname;
    if (!reqs.some((r) => r.path === path0 && r.status === 200)) p.push(`nginx never answered 200 for ${path0}`);
  }
  if (reqs.some((r) => r.path === new URL(tree.manifest.boot.unknown_url).pathname)) p.push('a known node fetched unknown.ipxe');
  const tftp = uefiLoaderProblem(tree, o.dnsmasq);
  if (tftp) p.push(tftp);
  if (result.exitCode !== 0) p.push(`QEMU exit ${result.exitCode} (the guest did not power off by itself)`);
  return p;
}

/** Everything wrong with an unknown-MAC boot. */
async function unknownProblems(o: Outcome): Promise<string[]> {
  const { tree, result } = o;
  const p: string[] = [];
  if (!result) return ['no boot result'];
  const s = cleanSerial(result.serial);
  const msg = await unknownMessage(tree);
  if (!s.includes(msg))
    p.push(`the serial console never showed unknown.ipxe's message "${msg}"${result.timedOut ? ` (timed out after ${result.ms} ms)` : ''}`);
  if (/HARVGEN-CMDLINE|Linux version/.test(s)) p.push('a kernel booted');
  const reqs = gets(o.access);
  // The tree may be served under a path prefix (boot.server http://host/<prefix>).
  const prefix = new URL(tree.manifest.boot.server).pathname.replace(/\/+$/, '');
  const own = `${prefix}/ipxe/${o.mac.replace(/:/g, '-')}.ipxe`;
  if (!reqs.some((r) => r.path === own && r.status === 404)) p.push(`nginx did not answer 404 for ${own}`);
  if (reqs.some((r) => r.path === own && r.status === 200)) p.push(`nginx answered 200 for ${own}`);
  if (!reqs.some((r) => r.path === new URL(tree.manifest.boot.unknown_url).pathname && r.status === 200))
    p.push('unknown.ipxe was never served');
  const forbidden = reqs.filter(
    (r) => /\/harvester\/|harvester-v[^/]*-(vmlinuz|initrd)/.test(r.path) || (r.path.startsWith(`${prefix}/ipxe/`) && r.path !== own),
  );
  if (forbidden.length) p.push(`an unknown machine fetched ${forbidden.map((r) => `${r.path} (${r.status})`).join(', ')}`);
  return p;
}

function report(o: Outcome): string {
  const r = o.result;
  const serial = r ? cleanSerial(r.serial).split('\n') : [];
  return [
    `site ${o.tree.label}, MAC ${o.mac}${o.node ? `, node ${o.node.hostname}` : ''}`,
    r
      ? `QEMU: ${r.cmd}\n  exit ${r.exitCode}, ${r.ms} ms${r.timedOut ? ', TIMED OUT' : ''}${r.stoppedBecause ? `, stopped: ${r.stoppedBecause}` : ''}\n${r.qemuOutput.trim()}`
      : '',
    `--- serial console (last 250 of ${serial.length} lines) ---`,
    serial.slice(-250).join('\n'),
    '--- nginx access log ---',
    o.access.trim(),
    '--- dnsmasq log (last 60 lines) ---',
    o.dnsmasq.trim().split('\n').slice(-60).join('\n'),
  ].join('\n');
}

function programsPresent(): boolean {
  // apt-get and dpkg-deb only matter when the test kernel still has to be fetched.
  const fetch = existsSync(path.join(KERNEL_DIR, 'VERSION')) ? [] : ['apt-get', 'dpkg-deb'];
  return (
    requireProgram('qemu-system-x86_64', 'nginx', 'dnsmasq', 'ip', 'socat', 'cpio', '/bin/busybox', ...fetch) &&
    requireProgram(
      '/usr/lib/ipxe/qemu/pxe-virtio.rom',
      '/usr/lib/ipxe/undionly.kpxe',
      '/usr/lib/ipxe/ipxe.efi',
      '/usr/share/OVMF/OVMF_CODE_4M.fd',
      '/usr/share/OVMF/OVMF_VARS_4M.fd',
    ) &&
    requireRoot()
  );
}

for (const c of CASES) {
  test(c.title, async () => {
    if (!programsPresent()) return;
    const o = await outcome(c.id);
    if (o.result)
      console.log(
        `  boot ${c.id}: ${(o.result.ms / 1000).toFixed(1)} s${o.result.stoppedBecause ? ` (stopped: ${o.result.stoppedBecause})` : ''}`,
      );
    if (o.error)
      throw new Error(`${c.id}: the boot lab failed: ${o.error instanceof Error ? o.error.stack : String(o.error)}\n${report(o)}`);
    if (c.kind === 'install') {
      const p = await installProblems(o);
      assert.equal(p, [], `${c.id}: the boot went wrong:\n  ${p.join('\n  ')}\n${report(o)}`);
    } else if (c.kind === 'unknown') {
      const p = await unknownProblems(o);
      assert.equal(p, [], `${c.id}: the unknown MAC went wrong:\n  ${p.join('\n  ')}\n${report(o)}`);
    } else {
      const p = await installProblems(o);
      assert.ok(p.length > 0, `${c.id}: removing initrd= went unnoticed:\n${report(o)}`);
      const s = cleanSerial(o.result?.serial ?? '');
      assert.ok(
        /Kernel panic|Unable to mount root/.test(s),
        `${c.id}: expected the kernel to panic without its initrd; problems:\n  ${p.join('\n  ')}\n${report(o)}`,
      );
    }
  });
}

// harvgen status over the log a real nginx wrote while real iPXE clients booted (boot.report on).
test('harvgen status reads the real nginx log of the BIOS boots: hv-b1 installing (its config fetched), the unknown MAC with what iPXE reported', async () => {
  if (!programsPresent()) return;
  const [known, stranger] = [await outcome('bios-create'), await outcome('bios-unknown')];
  assert.ok(known.access && stranger.access, 'both boots left an access log');
  const log = path.join(tempDir('boot-status'), 'access.log');
  await writeFile(log, known.access + stranger.access);
  const r = await status({ sites: [known.tree.sourceDir], logs: [log] });
  assert.equal(r.diagnostics, []);
  const b1 = r.nodes.find((n) => n.hostname === 'hv-b1')!;
  assert.is(b1.verdict, 'installing', JSON.stringify(b1, null, 1));
  for (const k of ['script', 'kernel', 'initrd', 'config'] as const)
    assert.is(b1.fetches[k]?.status, 200, `${k}: ${JSON.stringify(b1.fetches)}`);
  assert.is(b1.last_boot?.mac, known.mac);
  const u = r.unknown.find((x) => x.mac === UNKNOWN_MAC);
  assert.ok(u, `the unknown MAC is not listed: ${JSON.stringify(r.unknown)}`);
  // unknown.ipxe reported the machine: QEMU's SMBIOS and iPXE's platform.
  assert.is(u!.report?.platform, 'pcbios', JSON.stringify(u));
  assert.match(u!.report?.manufacturer ?? '', /QEMU/);
  assert.match(u!.report?.uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-/);
});

test.run();
