// Reinstall generations (`reinstall: <n>`, issue 24): the node's config appends the command that
// writes its generation marker to `os.after_install_chroot_commands` (after the user's own), its
// install-once script probes for that marker, and the field is refused where it cannot work.
// test/real/reinstall.test.ts runs the command with real shells and boots the scripts in QEMU.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { compileSite, type Diagnostic } from '../src/index.ts';
import { validateInstallerConfig } from '../src/harvester/installer-schema.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, Record<string, unknown>>;
const nodes = (doc: Doc) => doc.nodes as unknown as Record<string, unknown>[];

/** location_x (UEFI, hv-1..hv-3) with changes, written to a fresh site directory. */
function site(change: (doc: Doc) => void): string {
  const doc = exampleSite();
  change(doc);
  const dir = join(tempDir('reinstall'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

/**
 * hv-1 reinstalls through generations: `state: install-once` and `reinstall: n`. It is the node
 * that created the cluster, so `cluster.created` is set (it now joins): without it, a generation
 * on the create node would start a second cluster (CLUSTER_CREATE_NODE_REINSTALL).
 */
const gen = (n: number, more: (doc: Doc) => void = () => undefined) =>
  site((d) => {
    d.cluster!.created = true;
    delete nodes(d)[0]!.role;
    Object.assign(nodes(d)[0]!, { state: 'install-once', reinstall: n });
    more(d);
  });

async function compiled(dir: string): Promise<{ files: Map<string, string>; diagnostics: readonly Diagnostic[] }> {
  const r = await compileSite(dir);
  return {
    files: new Map((r.artifacts ?? []).map((a) => [a.path, typeof a.contents === 'string' ? a.contents : ''])),
    diagnostics: r.diagnostics,
  };
}

async function files(dir: string): Promise<Map<string, string>> {
  const r = await compiled(dir);
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
    'no errors',
  );
  return r.files;
}

const SCRIPT = 'ipxe/52-54-00-aa-bb-01.ipxe';
const CONFIG = 'harvester/hv-1.yaml';
const commands = (m: Map<string, string>, p = CONFIG): string[] =>
  ((parse(m.get(p)!) as { os?: { after_install_chroot_commands?: string[] } }).os?.after_install_chroot_commands ?? []) as string[];
/** The marker path the command touches (`touch "$m"<path>`). */
const touched = (cmd: string): string | undefined => /touch "\$m"(\/\S+);/.exec(cmd)?.[1];

test('reinstall: the config writes the marker of site, hostname and generation; the script probes for exactly that marker', async () => {
  const m = await files(gen(3));
  const cmds = commands(m);
  assert.is(cmds.length, 1, 'one after-install command');
  assert.is(touched(cmds[0]!), '/harvgen/location_x/hv-1.3');
  assert.match(
    cmds[0]!,
    /blkid -c \/dev\/null -o device -t LABEL=COS_GRUB \$\(lsblk -nrpo NAME "\/dev\/\$k"\)/,
    'the ESP of the disk that holds /oem',
  );
  assert.match(cmds[0]!, /k=\$\(lsblk -ndo PKNAME "\$\(findmnt -nvo SOURCE \/oem\)"\)/);
  assert.not.match(cmds[0]!, /\{\{|\n/, 'no yip template delimiter, one line');
  const s = m.get(SCRIPT)!;
  assert.match(s, /^imgfetch --name harvgen-marker file:\/\/COS_GRUB\/harvgen\/location_x\/hv-1\.3 && goto harvgen_installed \|\|$/m);
  assert.not.match(s, /bootx64\.efi/, 'the boot loader alone no longer counts as installed');
  assert.match(s, /^echo harvgen: no install of generation 3 on the local disk; installing$/m);
  // The other nodes are untouched.
  assert.equal(commands(m, 'harvester/hv-2.yaml'), []);
  assert.not.match(m.get('ipxe/52-54-00-aa-bb-02.ipxe')!, /harvgen-marker/);
});

test('raising the generation changes the marker in the script and in the config, and nothing else', async () => {
  const [a, b] = await Promise.all([files(gen(3)), files(gen(4))]);
  assert.is(touched(commands(b)[0]!), '/harvgen/location_x/hv-1.4');
  assert.match(b.get(SCRIPT)!, /file:\/\/COS_GRUB\/harvgen\/location_x\/hv-1\.4 /);
  const changed = [...a.keys()].filter((p) => a.get(p) !== b.get(p)).sort();
  assert.equal(changed, ['harvester/hv-1.yaml', 'ipxe/52-54-00-aa-bb-01.ipxe', 'manifest.json']);
  const strip = (t: string) => t.replace(/hv-1\.[34]\b/g, 'hv-1.N').replace(/generation [34]\b/g, 'generation N');
  assert.is(strip(a.get(SCRIPT)!), strip(b.get(SCRIPT)!));
  assert.is(strip(a.get(CONFIG)!), strip(b.get(CONFIG)!));
});

test('the marker names the site: the same node in another site probes and writes another file', async () => {
  const m = await files(gen(3, (d) => ((d as Record<string, unknown>).site = 'location_z')));
  assert.is(touched(commands(m)[0]!), '/harvgen/location_z/hv-1.3');
  assert.match(m.get(SCRIPT)!, /file:\/\/COS_GRUB\/harvgen\/location_z\/hv-1\.3 /);
});

test("the user's own os.after_install_chroot_commands are kept (node over defaults, as config: merges) and the marker's command comes last", async () => {
  const m = await files(
    gen(2, (d) => {
      d.defaults!.config = { os: { after_install_chroot_commands: ['echo from-defaults'] } };
      nodes(d)[0]!.config = { os: { after_install_chroot_commands: ['echo one', 'echo two'], labels: { a: 'b' } } };
      nodes(d)[1]!.state = 'install-once';
    }),
  );
  const cmds = commands(m);
  assert.equal(cmds.slice(0, 2), ['echo one', 'echo two'], "the node's list replaces the defaults' (lists are replaced, not merged)");
  assert.is(cmds.length, 3);
  assert.is(touched(cmds[2]!), '/harvgen/location_x/hv-1.2');
  assert.equal((parse(m.get(CONFIG)!) as { os: { labels: unknown } }).os.labels, { a: 'b' });
  // A node without a generation keeps exactly the user's list.
  assert.equal(commands(m, 'harvester/hv-2.yaml'), ['echo from-defaults']);
});

test("every supported release line takes the generated config (the installer's schema per line)", async () => {
  const m = await files(gen(7, (d) => (nodes(d)[0]!.config = { os: { after_install_chroot_commands: ['true'] } })));
  const cfg = parse(m.get(CONFIG)!) as Record<string, unknown>;
  for (const minor of ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9']) {
    const issues = validateInstallerConfig(minor, cfg).filter((i) => JSON.stringify(i.path).includes('after_install'));
    assert.equal(issues, [], `v${minor}: ${JSON.stringify(issues)}`);
  }
  // The checker sees the appended list: an empty command of the user's is still refused.
  const bad = await compiled(gen(7, (d) => (nodes(d)[0]!.config = { os: { after_install_chroot_commands: [''] } })));
  assert.ok(
    bad.diagnostics.some((d) => d.severity === 'error' && /after_install_chroot_commands/.test(`${d.message} ${d.hint ?? ''}`)),
    JSON.stringify(bad.diagnostics.map((d) => d.message)),
  );
});

test('reinstall in defaults: every Harvester node gets its own marker; unknown machines joining keep the boot loader probe', async () => {
  const m = await files(
    site((d) => {
      Object.assign(d.defaults!, { state: 'install-once', reinstall: 5 });
      d.cluster!.created = true;
      delete nodes(d)[0]!.role;
      d.boot!.unknown = 'join';
    }),
  );
  for (const [i, host] of ['hv-1', 'hv-2', 'hv-3'].entries()) {
    assert.is(touched(commands(m, `harvester/${host}.yaml`)[0]!), `/harvgen/location_x/${host}.5`);
    assert.match(m.get(`ipxe/52-54-00-aa-bb-0${i + 1}.ipxe`)!, new RegExp(`file://COS_GRUB/harvgen/location_x/${host}\\.5 `));
  }
  assert.equal(commands(m, 'unknown/join.yaml'), [], 'a machine without a hostname has no marker of its own');
  assert.match(m.get('unknown.ipxe')!, /file:\/\/COS_GRUB\/EFI\/BOOT\/bootx64\.efi/);
});

test('reinstall without install-once, and on BIOS, is refused at the field with a hint', async () => {
  const local = await compiled(gen(1, (d) => (nodes(d)[0]!.state = 'local')));
  const once = local.diagnostics.find((d) => d.code === 'NODE_REINSTALL_NEEDS_ONCE');
  assert.ok(once, JSON.stringify(local.diagnostics));
  assert.is(once!.severity, 'error');
  assert.match(once!.hint ?? '', /state: install-once/);
  const plain = await compiled(gen(1, (d) => delete nodes(d)[0]!.state));
  assert.match(plain.diagnostics.find((d) => d.code === 'NODE_REINSTALL_NEEDS_ONCE')?.message ?? '', /whose state is `install`/);

  const bios = await compiled(gen(1, (d) => (d.boot!.firmware = 'bios')));
  const b = bios.diagnostics.find((d) => d.code === 'NODE_REINSTALL_BIOS');
  assert.ok(b, JSON.stringify(bios.diagnostics));
  assert.is(b!.severity, 'error');
  assert.match(b!.message, /sanboot/);
  assert.match(b!.hint ?? '', /boot\.firmware: uefi/);
  // arm64 machines boot UEFI whatever the site's firmware.
  const arm = await compiled(
    gen(1, (d) => {
      d.boot!.firmware = 'bios';
      d.harvester!.version = 'v1.4.1';
      nodes(d)[0]!.arch = 'arm64';
    }),
  );
  assert.not.ok(
    arm.diagnostics.some((d) => d.code === 'NODE_REINSTALL_BIOS'),
    JSON.stringify(arm.diagnostics.map((d) => d.message)),
  );
});

test('an OS profile node ignores reinstall (NODE_SETTING_IGNORED at the field) and its script keeps the boot loader probe', async () => {
  const r = await compiled(
    site((d) => {
      d.os_profiles = {
        rocky: { kernel: 'http://192.168.122.1/os/vmlinuz', initrds: ['http://192.168.122.1/os/initrd.img'], params: ['ro'] },
      };
      Object.assign(nodes(d)[2]!, { os: 'rocky', state: 'install-once', reinstall: 2 });
    }),
  );
  const w = r.diagnostics.find((d) => d.code === 'NODE_SETTING_IGNORED' && d.message.includes('`reinstall`'));
  assert.ok(w, JSON.stringify(r.diagnostics.map((d) => d.message)));
  assert.is(w!.severity, 'warning');
  assert.match(r.files.get('ipxe/52-54-00-aa-bb-03.ipxe') ?? '', /file:\/\/COS_GRUB\/EFI\/BOOT\/bootx64\.efi/);
});

test.run();
