// Reinstall generations (`reinstall: <n>`, issue 24), proven with the real programs:
//
//   1. The after-install command of the generated config, run by the shells an installer may
//      have (dash as Debian's sh, bash as SLE Micro's), with the real mktemp, mkdir, touch,
//      umount and rmdir, writes its marker file at its path on the volume it mounted and removes
//      its mount point; without an ESP on the disk of /oem it fails and mounts nothing. The device
//      lookups (findmnt, lsblk, blkid) are stand-ins and `mount` bind-mounts a directory for the
//      ESP: this container can neither partition a loop disk nor mount FAT (no vfat module). The
//      FAT side is the QEMU boots': OVMF reads the marker at the same path from a FAT ESP.
//   2. The node scripts in QEMU with OVMF (the boot lab of lifecycle.test.ts): a disk whose ESP
//      holds the marker of the node's generation (the path taken from the generated config's
//      command) boots locally; the same node at n+1 installs; so does a blank disk, a disk with
//      only Harvester's boot loader, and disks with another node's or another site's marker.
//      Mutations (the probe removed, the marker renamed in the script) make the marked disk
//      install, and the checks notice.
//
// BIOS is refused at build time (NODE_REINSTALL_BIOS, test/reinstall.test.ts and the fixture
// pair): iPXE has no file access to a disk there. The last test here builds that refusal too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { requireProgram, requireRoot, findProgram } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, KERNEL_DIR, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, copyTree, type SiteTree } from './helpers/tree.ts';
import { DISK_MARKER, ESP_LABEL, UEFI_DISK_PROGRAMS, emptyDisk, uefiMarkerDisk } from './helpers/disks.ts';
import { run } from './helpers/proc.ts';
import { flat, pathOf, requests, selectedCases } from './helpers/boot-log.ts';
import { tempDir } from '../helpers/tmp.ts';
import { build } from '../../src/index.ts';
import { existsSync } from 'node:fs';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/reinstall_uefi');
const SITE = 'real_reinstall';
/** UEFI boots: ~25-34 s each, two at a time (lifecycle.test.ts). */
const LIMIT_MS = 180_000;
const DISK_EXIT_GRACE_MS = 5_000;

/** The fixture (generation 3) and a copy of it at generation 4, each built on its own. */
let trees: Promise<{ now: SiteTree; next: SiteTree }> | undefined;
function getTrees(): Promise<{ now: SiteTree; next: SiteTree }> {
  trees ??= (async () => {
    const nextDir = path.join(tempDir('reinstall-next-src'), 'reinstall_uefi');
    await mkdir(nextDir, { recursive: true });
    const yaml = await readFile(path.join(FIXTURE, 'site.yaml'), 'utf8');
    const raised = yaml.replace(/^  reinstall: 3$/m, '  reinstall: 4');
    if (raised === yaml) throw new Error('the fixture has no `  reinstall: 3` line to raise');
    await writeFile(path.join(nextDir, 'site.yaml'), raised);
    const [{ now }, { next }] = await Promise.all([
      buildFixtureTrees('reinstall', { now: FIXTURE }),
      buildFixtureTrees('reinstall-next', { next: nextDir }),
    ]);
    return { now, next };
  })();
  return trees;
}

/** The node's config in a tree, parsed. */
async function configOf(tree: SiteTree, hostname: string): Promise<{ os: { after_install_chroot_commands: string[] } }> {
  return parseYaml(await readFile(path.join(tree.dir, 'harvester', `${hostname}.yaml`), 'utf8')) as never;
}

/** The marker file the generated config's last after-install command writes (`touch "$m"<path>;`). */
async function markerOf(tree: SiteTree, hostname: string): Promise<string> {
  const cmds = (await configOf(tree, hostname)).os.after_install_chroot_commands;
  const p = /touch "\$m"(\/\S+);/.exec(cmds[cmds.length - 1] ?? '')?.[1];
  if (!p) throw new Error(`${hostname}: no marker command in the config's after_install_chroot_commands: ${JSON.stringify(cmds)}`);
  return p;
}

function programsPresent(): boolean {
  const fetch = existsSync(path.join(KERNEL_DIR, 'VERSION')) ? [] : ['apt-get', 'dpkg-deb'];
  return (
    requireProgram('qemu-system-x86_64', 'nginx', 'dnsmasq', 'ip', 'ss', 'socat', 'cpio', '/bin/busybox', ...fetch) &&
    requireProgram(
      '/usr/lib/ipxe/snponly.efi',
      '/usr/share/OVMF/OVMF_CODE_4M.fd',
      '/usr/share/OVMF/OVMF_VARS_4M.fd',
      ...UEFI_DISK_PROGRAMS,
    ) &&
    requireRoot()
  );
}

// ---------------------------------------------------------------------------------------------
// 1. The after-install command, run.

/** Stand-ins for the device lookups: the disk of /oem is `fake`, its ESP `fake1` (or none). */
async function stubs(dir: string, espOnDisk: boolean): Promise<string> {
  const bin = path.join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const log = path.join(dir, 'calls.log');
  const script = (body: string) => `#!/bin/sh\necho "$(basename "$0") $*" >> ${log}\n${body}\n`;
  const files: Record<string, string> = {
    findmnt: script('[ "$*" = "-nvo SOURCE /oem" ] && echo /dev/fake2'),
    lsblk: script(
      'case "$*" in\n"-ndo PKNAME /dev/fake2") echo fake ;;\n"-nrpo NAME /dev/fake") printf "/dev/fake\\n/dev/fake1\\n/dev/fake2\\n" ;;\n*) exit 32 ;;\nesac',
    ),
    blkid: script(
      `[ "$*" = "-c /dev/null -o device -t LABEL=${ESP_LABEL} /dev/fake /dev/fake1 /dev/fake2" ] || exit 4\n${espOnDisk ? 'echo /dev/fake1' : 'exit 2'}`,
    ),
    // The ESP: a directory, bind-mounted by the real mount.
    mount: script(`[ "$1" = /dev/fake1 ] || exit 32\nexec ${findProgram('mount') ?? 'mount'} --bind ${path.join(dir, 'esp')} "$2"`),
  };
  for (const [name, text] of Object.entries(files)) {
    await writeFile(path.join(bin, name), text);
    await chmod(path.join(bin, name), 0o755);
  }
  return bin;
}

async function runCommand(shell: string, command: string, espOnDisk: boolean): Promise<{ code: number | null; out: string; dir: string }> {
  const dir = tempDir(`reinstall-cmd-${path.basename(shell)}`);
  await mkdir(path.join(dir, 'esp', 'EFI', 'BOOT'), { recursive: true });
  const bin = await stubs(dir, espOnDisk);
  const tmp = path.join(dir, 'tmp');
  await mkdir(tmp);
  const r = await run([shell, '-c', command], {
    timeoutMs: 30_000,
    env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, TMPDIR: tmp },
  });
  return { code: r.code, out: r.stdout + r.stderr, dir };
}

for (const shell of ['/bin/dash', '/bin/bash']) {
  test(`${path.basename(shell)} runs the config's after-install command: the marker lands on the mounted ESP, the mount point is gone`, async () => {
    if (!programsPresent() || !requireProgram(shell)) return;
    const { now } = await getTrees();
    const cmds = (await configOf(now, 'rg-a')).os.after_install_chroot_commands;
    assert.equal(cmds[0], 'echo operator-command', "the operator's own command stays first");
    const ok = await runCommand(shell, cmds[cmds.length - 1]!, true);
    assert.is(ok.code, 0, ok.out);
    const marker = await markerOf(now, 'rg-a');
    assert.is(marker, `/harvgen/${SITE}/rg-a.3`);
    assert.equal(await readdir(path.join(ok.dir, 'esp', 'harvgen', SITE)), ['rg-a.3'], 'the marker, and only it, on the volume');
    assert.equal(await readdir(path.join(ok.dir, 'tmp')), [], 'the temporary mount point is removed (the root tree becomes the image)');
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    assert.not.ok(mounts.includes(path.join(ok.dir, 'tmp')), 'nothing left mounted');

    // No ESP on the disk of /oem: the command fails (the installer logs it) and leaves nothing behind.
    const none = await runCommand(shell, cmds[cmds.length - 1]!, false);
    assert.ok(none.code !== 0, `expected a failure without an ESP:\n${none.out}`);
    assert.equal(await readdir(path.join(none.dir, 'tmp')), []);
    const calls = await readFile(path.join(none.dir, 'calls.log'), 'utf8');
    assert.not.match(calls, /^mount /m, 'nothing mounted without an ESP');
  });
}

// ---------------------------------------------------------------------------------------------
// 2. The scripts in QEMU.

type Expect = 'disk' | 'install';
interface Case {
  id: string;
  title: string;
  tree: 'now' | 'next';
  hostname: string;
  /** Marker files on the ESP: from the built configs (`rg-a@now`), or literal paths. */
  disk: 'empty' | readonly string[];
  expect: Expect;
  mutation?: 'no-probe' | 'renamed';
}

const CASES: Case[] = [
  {
    id: 'marked',
    tree: 'now',
    hostname: 'rg-a',
    disk: ['rg-a@now'],
    expect: 'disk',
    title: "generation 3: a disk whose ESP holds rg-a's generation-3 marker boots locally; no installer fetched",
  },
  {
    id: 'next',
    tree: 'next',
    hostname: 'rg-a',
    disk: ['rg-a@now'],
    expect: 'install',
    title: 'generation 4 (the number raised): the same disk installs, with the config that writes the generation-4 marker',
  },
  // A blank disk: the install-once boots of lifecycle.test.ts (same probe, no marker) cover it.
  {
    id: 'loader-only',
    tree: 'now',
    hostname: 'rg-a',
    disk: [],
    expect: 'install',
    title: "a disk with Harvester's boot loader but no generation marker (what install-once alone accepts) installs",
  },
  {
    id: 'other-node',
    tree: 'now',
    hostname: 'rg-a',
    disk: ['rg-b@now'],
    expect: 'install',
    title: "a disk with another node's marker of the same generation (rg-b) installs",
  },
  {
    id: 'other-site',
    tree: 'now',
    hostname: 'rg-a',
    disk: ['/harvgen/other_site/rg-a.3'],
    expect: 'install',
    title: "a disk with another site's marker for the same hostname and generation installs",
  },
  {
    id: 'no-probe',
    tree: 'now',
    hostname: 'rg-a',
    disk: ['rg-a@now'],
    expect: 'disk',
    mutation: 'no-probe',
    title: "mutation: rg-a's script without its imgfetch probe installs over the marked disk, and the disk check notices",
  },
  // A renamed marker in the script is the same failure as other-node's marker on the disk.
];

interface Outcome {
  tree: SiteTree;
  mac: string;
  script: string;
  marker: string;
  result?: BootResult;
  access: string;
  error?: unknown;
}

const SELECTED = selectedCases(CASES, 'HARVGEN_REINSTALL_ONLY');

const outcome = lazyBoots(
  SELECTED,
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await getTrees() };
  },
  (c, p) => runCase(c, p.trees, { kernel: p.kernel, initrd: p.initrd }),
);

async function diskFor(c: Case, trees: { now: SiteTree; next: SiteTree }): Promise<string> {
  if (c.disk === 'empty') return emptyDisk();
  const files = await Promise.all(
    c.disk.map((f) => {
      const m = /^([a-z0-9-]+)@(now|next)$/.exec(f);
      return m ? markerOf(trees[m[2] as 'now' | 'next'], m[1]!) : f;
    }),
  );
  return uefiMarkerDisk(ESP_LABEL, files);
}

async function runCase(c: Case, trees: { now: SiteTree; next: SiteTree }, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  let tree = trees[c.tree];
  const node = tree.manifest.nodes.find((n) => n.hostname === c.hostname);
  if (!node) throw new Error(`no node ${c.hostname} in ${tree.label}`);
  const mac = node.macs[0]!;
  const rel = node.ipxe.find((x) => x.mac === mac)!.path;
  const marker = await markerOf(tree, c.hostname);
  if (c.mutation) {
    tree = await copyTree(tree, `reinstall-${c.mutation}`);
    const file = path.join(tree.dir, rel);
    const text = await readFile(file, 'utf8');
    const broken =
      c.mutation === 'no-probe'
        ? text.replace(/^imgfetch --name harvgen-marker .*\n/m, '')
        : text.replace(`${marker} && goto harvgen_installed`, `${marker.replace(/\.3$/, '.03')} && goto harvgen_installed`);
    if (broken === text) throw new Error(`mutation ${c.mutation} did not apply to ${rel}:\n${text}`);
    await writeFile(file, broken);
  }
  const out: Outcome = { tree, mac, script: await readFile(path.join(tree.dir, rel), 'utf8'), marker, access: '' };
  try {
    const disk = await diskFor(c, trees);
    await withLab(tree, artifacts, async (lab) => {
      out.result = await bootVm({
        firmware: 'uefi',
        mac,
        ns: lab.ns,
        tap: lab.tap,
        workDir: lab.workDir,
        timeoutMs: LIMIT_MS,
        disk,
        ovmf: { IPv6Support: 'n' },
        stopWhen: stopper(c),
      });
      out.access = await lab.accessLog();
    });
  } catch (err) {
    out.error = err;
  }
  return out;
}

const FATAL = ['Kernel panic', 'No bootable device', 'could not load the installer', 'Shell> ', 'HARVGEN-ERROR'];

function stopper(c: Case): (raw: string) => string | undefined {
  let markerAt = 0;
  return (raw) => {
    const s = cleanSerial(raw);
    for (const f of FATAL) if (s.includes(f)) return f;
    if (c.expect === 'disk' && !c.mutation && /HARVGEN-CMDLINE|Linux version/.test(s)) return 'a kernel booted';
    if (c.expect === 'install' && s.includes(DISK_MARKER)) return 'the local disk booted';
    if (s.includes(DISK_MARKER)) {
      markerAt ||= Date.now();
      if (Date.now() - markerAt > DISK_EXIT_GRACE_MS) return 'disk marker seen, but QEMU did not exit';
    }
    return undefined;
  };
}

/** What is wrong with a boot that must end on the local disk. */
function diskProblems(o: Outcome): string[] {
  const r = o.result;
  if (!r) return ['no boot result'];
  const p: string[] = [];
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  if (r.stoppedBecause) p.push(`stopped early: ${r.stoppedBecause}`);
  const f = flat(r.serial);
  const at = f.indexOf(DISK_MARKER);
  if (at < 0) p.push(`the local disk never booted (no ${DISK_MARKER})`);
  if (/HARVGEN-CMDLINE|Linux version/.test(cleanSerial(r.serial))) p.push('a kernel booted (the installer was reached)');
  const probe = f.indexOf('harvgen: looking for the install of generation');
  if (probe < 0 || (at >= 0 && probe > at)) p.push("the script's generation probe did not run before the disk booted");
  if (!f.includes('is installed; returning to the firmware')) p.push('the script never said the node is installed');
  const served = requests(o.access);
  const node = o.tree.manifest.nodes.find((n) => n.macs.includes(o.mac))!;
  const fetched = served.filter((q) => [o.tree.manifest.artifacts!.kernel, node.config!.url].map(pathOf).includes(q.path));
  if (fetched.length) p.push(`fetched ${fetched.map((q) => q.path).join(', ')}; a disk boot needs none of it`);
  if (r.exitCode !== 0) p.push(`QEMU exit ${r.exitCode}, expected 0 from the disk's GRUB halt`);
  return p;
}

/** What is wrong with a boot that must reach the installer with the node's config. */
async function installProblems(o: Outcome): Promise<string[]> {
  const r = o.result;
  if (!r) return ['no boot result'];
  const p: string[] = [];
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  if (r.stoppedBecause) p.push(`stopped early: ${r.stoppedBecause}`);
  const s = cleanSerial(r.serial);
  if (s.includes(DISK_MARKER)) p.push('the local disk booted');
  const cmdline = /^HARVGEN-CMDLINE: (.*)$/m.exec(s)?.[1]?.trim();
  if (!cmdline) return [...p, 'the test kernel never reached /init (no HARVGEN-CMDLINE)'];
  const node = o.tree.manifest.nodes.find((n) => n.macs.includes(o.mac))!;
  if (!cmdline.split(/\s+/).includes(`harvester.install.config_url=${node.config!.url}`))
    p.push(`the kernel line lacks the node's config_url`);
  const f = flat(r.serial);
  if (!f.includes(`looking for the install of generation`)) p.push("the script's generation probe never ran");
  if (!/Could not start download|file:\/\//.test(s)) p.push('no file:// fetch attempt on the serial console (the probe did not run)');
  const b64 = /^HARVGEN-CONFIG-B64-BEGIN\n([\s\S]*?)^HARVGEN-CONFIG-B64-END/m.exec(s)?.[1];
  const want = await readFile(path.join(o.tree.dir, node.config!.path));
  if (!b64) p.push('no config printed on the serial console');
  else {
    const got = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
    if (!got.equals(want)) p.push(`the guest fetched a config that differs from ${node.config!.path}`);
    const cmds =
      (parseYaml(got.toString('utf8')) as { os?: { after_install_chroot_commands?: string[] } }).os?.after_install_chroot_commands ?? [];
    if (!cmds.some((x) => x.includes(`touch "$m"${o.marker};`))) p.push(`the fetched config does not write ${o.marker}`);
  }
  if (!requests(o.access).some((q) => q.path === pathOf(node.config!.url) && q.status === 200)) p.push('nginx never served the config');
  if (r.exitCode !== 0) p.push(`QEMU exit ${r.exitCode} (the guest did not power off by itself)`);
  return p;
}

function report(o: Outcome): string {
  const serial = o.result ? cleanSerial(o.result.serial).split('\n') : [];
  return [
    `MAC ${o.mac}, marker ${o.marker}`,
    o.result ? `QEMU: ${o.result.cmd}\n  exit ${o.result.exitCode}, ${o.result.ms} ms${o.result.timedOut ? ', TIMED OUT' : ''}` : '',
    '--- script ---',
    o.script,
    `--- serial console (last 150 of ${serial.length} lines) ---`,
    serial.slice(-150).join('\n'),
    '--- nginx access log ---',
    o.access.trim(),
  ].join('\n');
}

for (const c of SELECTED) {
  test(`UEFI (OVMF): ${c.title}`, async () => {
    if (!programsPresent()) return;
    const o = await outcome(c.id);
    if (o.result) console.log(`  boot ${c.id}: ${(o.result.ms / 1000).toFixed(1)} s`);
    if (o.error)
      throw new Error(`${c.id}: the boot lab failed: ${o.error instanceof Error ? o.error.stack : String(o.error)}\n${report(o)}`);
    if (c.mutation) {
      const p = diskProblems(o);
      assert.ok(p.length > 0, `${c.id}: the broken script went unnoticed:\n${report(o)}`);
      assert.ok(
        /^HARVGEN-CMDLINE: /m.test(cleanSerial(o.result?.serial ?? '')),
        `${c.id}: expected the installer over the marked disk:\n  ${p.join('\n  ')}\n${report(o)}`,
      );
      return;
    }
    const p = c.expect === 'disk' ? diskProblems(o) : await installProblems(o);
    assert.equal(p, [], `${c.id}: the boot went wrong:\n  ${p.join('\n  ')}\n${report(o)}`);
  });
}

test('BIOS: the same nodes on a BIOS site are refused (NODE_REINSTALL_BIOS at the field), no tree written', async () => {
  const dir = path.join(tempDir('reinstall-bios'), 'reinstall_bios');
  await mkdir(dir, { recursive: true });
  const yaml = (await readFile(path.join(FIXTURE, 'site.yaml'), 'utf8'))
    .replace(/^  firmware: uefi$/m, '  firmware: bios')
    .replace(/^  ipxe_binaries: .*\n/m, '')
    .replace(/^  uefi_loader: .*\n/m, '');
  await writeFile(path.join(dir, 'site.yaml'), yaml);
  const outDir = path.join(tempDir('reinstall-bios-out'), 'out');
  const r = await build({ sites: [dir], outDir, secrets: 'filled' });
  assert.not.ok(r.ok, 'the build must fail');
  const refused = r.diagnostics.filter((d) => d.code === 'NODE_REINSTALL_BIOS');
  assert.ok(refused.length > 0, JSON.stringify(r.diagnostics.map((d) => `${d.code} ${d.message}`)));
  // Written once in defaults: reported there (site.yaml, the `reinstall:` line).
  const line = yaml.split('\n').findIndex((l) => l === '  reinstall: 3') + 1;
  for (const d of refused) assert.is(`${path.basename(d.file ?? '')}:${d.line}`, `site.yaml:${line}`);
  assert.not.ok(existsSync(path.join(outDir, SITE, 'manifest.json')), 'no tree for a refused site');
});

test.run();
