// BMC scripts (docs/day-2.md "BMC scripts"): what the inventory may say (`bmc:`), what lands in the
// scripts and how. Hostile values are refused by the schema at their line; past the schema, the sh
// escaper still writes each one as one inert word (proved by letting sh read it back). No
// credential is read or written by the build. The scripts run for real in test/real/bmc.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { compileSite, type Artifact, type SiteModel } from '../src/index.ts';
import { harvesterIsoUrl, renderBmcScript, renderBmcAll } from '../src/render/bmc.ts';
import type { HarvesterNode, ResolvedBmc, ResolvedNode } from '../src/model/types.ts';
import { mediumPath, mediumUrl } from '../src/derive/file-names.ts';
import { tempDir } from './helpers/tmp.ts';
import { mediaLoaders, mediaSite, type MediaDoc } from './helpers/media.ts';
import { loadSite } from '../src/load/index.ts';
import { validateSite } from '../src/validate/index.ts';

const repo = resolve(import.meta.dirname, '..');

process.env.HARVGEN_BMC_TEST_TOKEN = 'bmc-test-token';

const HEAD = {
  site: 'bmcunit',
  harvester: { version: 'v1.5.1', artifacts: 'http://10.0.0.1/artifacts' },
  boot: { server: 'http://10.0.0.1', firmware: 'uefi' },
  network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
  cluster: { vip: '10.0.0.10', token: { env: 'HARVGEN_BMC_TEST_TOKEN' }, ssh_authorized_keys: ['github:harvgen-ops'] },
  defaults: { install: { device: '/dev/vda' } },
};

const node = (i: number, extra: Record<string, unknown> = {}) => ({
  hostname: `n${i}`,
  mac: `52:54:00:00:00:0${i}`,
  ip: `10.0.0.2${i}`,
  ...extra,
});

async function compile(nodes: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const dir = tempDir('bmc');
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...HEAD, ...extra, nodes }));
  return compileSite(dir);
}

const files = (artifacts: readonly Artifact[] | undefined) => new Map((artifacts ?? []).map((a) => [a.path, String(a.contents)]));
const codes = (r: { diagnostics: readonly { code: string; path?: string | undefined }[] }) =>
  r.diagnostics.map((d) => `${d.code} ${d.path}`);

test('a node with a bmc gets bmc/<hostname>.sh (0755) and the site bmc/all.sh; listed in manifest.json, never served', async () => {
  const r = await compile([node(1, { bmc: { address: '10.0.1.1' } }), node(2)]);
  assert.equal(r.diagnostics, []);
  const bmc = (r.artifacts ?? []).filter((a) => a.path.startsWith('bmc/'));
  assert.equal(
    bmc.map((a) => [a.path, a.mode.toString(8), a.url]),
    [
      ['bmc/all.sh', '755', undefined],
      ['bmc/n1.sh', '755', undefined],
    ],
  );
  const f = files(r.artifacts);
  const manifest = JSON.parse(f.get('manifest.json')!) as { files: { path: string; url?: string }[] };
  assert.equal(
    manifest.files.filter((x) => x.path.startsWith('bmc/')),
    manifest.files.filter((x) => x.path.startsWith('bmc/') && x.url === undefined),
  );
  assert.is(manifest.files.filter((x) => x.path.startsWith('bmc/')).length, 2);
  assert.not.ok(f.get('nginx/harvgen.conf')!.includes('/bmc/'), 'nginx has no location for bmc/');
  // Defaults: Redfish, BMC_USER/BMC_PASSWORD, the first system, TLS verified, UEFI boot mode.
  const s = f.get('bmc/n1.sh')!;
  for (const line of [
    'user_env=BMC_USER',
    'password_env=BMC_PASSWORD',
    "system=''",
    'insecure=false',
    'boot_mode=UEFI',
    "http_boot_url=''",
    'base=https://10.0.1.1',
  ])
    assert.ok(s.includes(`\n${line}\n`), line);
  assert.ok(f.get('bmc/all.sh')!.includes('set -- n1;'));
  // No bmc anywhere: no bmc/ files at all.
  const none = await compile([node(1)]);
  assert.not.ok((none.artifacts ?? []).some((a) => a.path.startsWith('bmc/')));
});

test("bmc merges key by key over defaults and profiles; BIOS sites set no boot mode; the HTTP boot URL is the site's", async () => {
  const r = await compile(
    [
      node(1, { bmc: { address: 'bmc-n1.example.net:8443' } }),
      node(2, { bmc: { address: '[fd00::2]', type: 'ipmi', user: { env: 'N2_USER' } } }),
      node(3, { arch: 'arm64', bmc: { address: '10.0.1.3' } }),
    ],
    {
      boot: { server: 'http://10.0.0.1', firmware: 'bios' },
      defaults: { install: { device: '/dev/vda' }, bmc: { password: { env: 'SITE_PW' }, insecure: true } },
    },
  );
  // insecure in defaults is for the Redfish nodes: the IPMI node does not make it an error.
  assert.equal(codes(r), []);
  const f = files(r.artifacts);
  const n1 = f.get('bmc/n1.sh')!;
  for (const line of ['password_env=SITE_PW', 'user_env=BMC_USER', 'insecure=true', "boot_mode=''", 'base=https://bmc-n1.example.net:8443'])
    assert.ok(n1.includes(`\n${line}\n`), line);
  const n2 = f.get('bmc/n2.sh')!;
  for (const line of ['host=fd00::2', 'port=623', 'user_env=N2_USER', 'password_env=SITE_PW', "bootdev_options=''"])
    assert.ok(n2.includes(`\n${line}\n`), line);
  // An arm64 machine is UEFI whatever the site's firmware.
  assert.ok(f.get('bmc/n3.sh')!.includes('\nboot_mode=UEFI\n'));

  const http = await compile([node(1, { bmc: { address: '10.0.1.1' } }), node(2, { arch: 'arm64', bmc: { address: '10.0.1.2' } })], {
    boot: { server: 'http://10.0.0.1', firmware: 'uefi', http_boot: true },
  });
  const h = files(http.artifacts);
  assert.ok(h.get('bmc/n1.sh')!.includes('\nhttp_boot_url=http://10.0.0.1/snponly.efi\n'));
  assert.match(h.get('bmc/n2.sh')!, /\nhttp_boot_url=http:\/\/10\.0\.0\.1\/[a-z0-9-]+\.efi\n/);
});

test('the schema refuses hostile BMC values at their line: address, system path, variable names, a password value', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ address: '10.0.1.1; reboot' }, 'nodes[0].bmc.address'],
    [{ address: '$(id)' }, 'nodes[0].bmc.address'],
    [{ address: 'fd00::1' }, 'nodes[0].bmc.address'],
    [{ address: '10.0.1.1:0' }, 'nodes[0].bmc.address'],
    [{ address: "a'b" }, 'nodes[0].bmc.address'],
    [{ address: '10.0.1.1', system: '/redfish/v1/Systems/../../etc' }, 'nodes[0].bmc.system'],
    [{ address: '10.0.1.1', system: '/redfish/v1/Systems/1 2' }, 'nodes[0].bmc.system'],
    [{ address: '10.0.1.1', system: 'http://evil/redfish/v1/Systems/1' }, 'nodes[0].bmc.system'],
    [{ address: '10.0.1.1', user: { env: 'A B' } }, 'nodes[0].bmc.user.env'],
    [{ address: '10.0.1.1', user: { env: 'x$(id)' } }, 'nodes[0].bmc.user.env'],
    [{ address: '10.0.1.1', password: { env: 'lower' } }, 'nodes[0].bmc.password.env'],
    [{ address: '10.0.1.1', password: 'hunter2' }, 'nodes[0].bmc.password'],
    [{ address: '10.0.1.1', password: { file: 'secrets/bmc' } }, 'nodes[0].bmc.password'],
    [{ address: '10.0.1.1', type: 'amt' }, 'nodes[0].bmc.type'],
  ];
  for (const [bmc, at] of cases) {
    const r = await compile([node(1, { bmc })]);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.ok(errors.length > 0 && r.artifacts === undefined, `${JSON.stringify(bmc)} was accepted`);
    assert.ok(
      errors.some((d) => d.path !== undefined && d.path.startsWith(at) && d.line !== undefined),
      `${JSON.stringify(bmc)}: ${JSON.stringify(codes(r))}`,
    );
  }
});

test("BMC_INVALID: a node's own bmc without address, Redfish settings on IPMI, one BMC for two nodes, a node named all", async () => {
  let r = await compile([node(1, { bmc: { type: 'redfish' } })]);
  assert.equal(codes(r), ['BMC_INVALID nodes[0].bmc']);
  r = await compile([node(1, { bmc: { address: '10.0.1.1', type: 'ipmi', insecure: true } })]);
  assert.equal(codes(r), ['BMC_INVALID nodes[0].bmc.insecure']);
  r = await compile([node(1, { bmc: { address: '10.0.1.1' } }), node(2, { bmc: { address: '10.0.1.1:443' } })]);
  assert.equal(codes(r), ['BMC_INVALID nodes[1].bmc.address']);
  // One Redfish BMC for a chassis: each node its own system.
  r = await compile([
    node(1, { bmc: { address: '10.0.1.1', system: '/redfish/v1/Systems/1' } }),
    node(2, { bmc: { address: '10.0.1.1', system: '/redfish/v1/Systems/2' } }),
  ]);
  assert.equal(codes(r), []);
  r = await compile([{ ...node(1, { bmc: { address: '10.0.1.1' } }), hostname: 'all' }]);
  assert.equal(codes(r), ['BMC_INVALID nodes[0].bmc.address']);
  // A defaults bmc without address gives the nodes without one no BMC, and no error.
  r = await compile([node(1), node(2, { bmc: { address: '10.0.1.2' } })], {
    defaults: { install: { device: '/dev/vda' }, bmc: { type: 'ipmi' } },
  });
  assert.equal(codes(r), []);
  assert.equal(
    (r.artifacts ?? []).filter((a) => a.path.startsWith('bmc/')).map((a) => a.path),
    ['bmc/all.sh', 'bmc/n2.sh'],
  );
});

test('the build never reads a BMC credential: its value is in no file, even in a deploy tree', async () => {
  const secret = 'bmc-secret-value-7f3a';
  process.env.HARVGEN_TEST_BMC_PW = secret;
  try {
    const dir = tempDir('bmc-secret');
    writeFileSync(
      join(dir, 'site.yaml'),
      stringify({ ...HEAD, nodes: [node(1, { bmc: { address: '10.0.1.1', password: { env: 'HARVGEN_TEST_BMC_PW' } } })] }),
    );
    for (const secrets of ['markers', 'filled'] as const) {
      const r = await compileSite(dir, { secrets });
      assert.equal(r.diagnostics, []);
      for (const a of r.artifacts ?? [])
        assert.not.ok(Buffer.from(a.contents).toString('latin1').includes(secret), `${secrets}: ${a.path}`);
      assert.ok(files(r.artifacts).get('bmc/n1.sh')!.includes('\npassword_env=HARVGEN_TEST_BMC_PW\n'));
    }
  } finally {
    delete process.env.HARVGEN_TEST_BMC_PW;
  }
});

/**
 * A site whose n1 (Redfish) and n3 (IPMI) boot from their own ISO and n2 from the network. The
 * boot programs are stand-ins the build accepts (an EFI one starts with MZ): what the ISO holds is
 * not what these tests are about.
 */
async function compileMedium() {
  const dir = tempDir('bmc-medium');
  mediaLoaders(join(dir, 'loaders'));
  const nodes = [
    node(1, { method: 'static', medium: 'iso', bmc: { address: '10.0.1.1' } }),
    node(2, { bmc: { address: '10.0.1.2' } }),
    node(3, { method: 'static', medium: 'iso', bmc: { address: '10.0.1.3', type: 'ipmi' } }),
  ];
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...HEAD, boot: { ...HEAD.boot, media_loaders: 'loaders' }, nodes }));
  // The deploy tree's files: the committed tree lists the image and holds none.
  return compileSite(dir, { secrets: 'filled' });
}

test('a node with medium: iso gets a BMC script naming the URL of its boot ISO; a network node gets none', async () => {
  const r = await compileMedium();
  assert.equal(codes(r), []);
  const model = r.model as SiteModel;
  const f = files(r.artifacts);
  const [n1, n2, n3] = model.nodes as [ResolvedNode, ResolvedNode, ResolvedNode];
  const url = mediumUrl(model, n1)!;
  assert.is(url, `http://10.0.0.1/${mediumPath(model, n1)}`, 'under boot.server');
  assert.ok(f.has(mediumPath(model, n1)!), 'the URL names a file of the tree');
  assert.ok(f.get('bmc/n1.sh')!.includes(`\nmedium_url=${url}\n`), 'Redfish');
  assert.ok(f.get('bmc/n3.sh')!.includes(`\nmedium_url=${mediumUrl(model, n3)!}\n`), 'IPMI');
  assert.is(mediumUrl(model, n3), url, 'both ISO nodes mount the one shared image');
  assert.is(mediumUrl(model, n2), undefined);
  assert.ok(f.get('bmc/n2.sh')!.includes("\nmedium_url=''\n"));
});

/** The BMC scripts of compileMedium's site written to a new directory, with an empty `bin/` for stand-in programs and where they record their calls. */
async function mediumScripts(label: string) {
  const r = await compileMedium();
  const dir = tempDir(label);
  for (const a of r.artifacts ?? [])
    if (a.path.startsWith('bmc/')) writeFileSync(join(dir, a.path.slice(4)), String(a.contents), { mode: 0o755 });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const env = { PATH: `${bin}:/usr/bin:/bin`, BMC_USER: 'admin', BMC_PASSWORD: 'pw', HARVGEN_BMC_POLL: '0' };
  const sh = (...args: string[]) => spawnSync('sh', [join(dir, args[0]!), ...args.slice(1)], { env, encoding: 'utf8', timeout: 30_000 });
  return { r, dir, bin, calls: join(dir, 'calls'), sh };
}

test("media-boot: a network node's script refuses it (exit 2) before any request; the IPMI script refuses it and eject; all.sh takes both", async () => {
  const { r, bin, calls, sh } = await mediumScripts('bmc-medium-run');
  // Stand-ins for the BMC programs: each call is recorded, and fails.
  for (const tool of ['curl', 'jq', 'ipmitool'])
    writeFileSync(join(bin, tool), `#!/bin/sh\necho ${tool} >>'${calls}'\nexit 99\n`, { mode: 0o755 });

  let p = sh('n2.sh', 'media-boot');
  assert.is(p.status, 2, p.stderr);
  assert.match(p.stderr, /^n2: media-boot: node n2 has medium: network \(it boots from the network: use pxe-once\); set medium: iso/);
  assert.not.ok(existsSync(calls), 'no request was sent');
  // The ISO node's script goes on to the BMC (and fails there: the stand-in curl).
  p = sh('n1.sh', 'media-boot');
  assert.is(p.status, 1, p.stderr);
  assert.match(p.stderr, /no answer from the BMC/);
  for (const sub of ['media-boot', 'eject']) {
    p = sh('n3.sh', sub);
    assert.is(p.status, 2, p.stderr);
    assert.match(
      p.stderr,
      new RegExp(`^n3: ${sub}: IPMI has no standard virtual media; the Redfish script does it \\(set bmc\\.type: redfish`),
    );
    assert.ok(p.stderr.includes(`mount ${mediumUrl(r.model as SiteModel, (r.model as SiteModel).nodes[2]!)} by hand`), p.stderr);
  }
  assert.is(sh('n1.sh', 'media-boot', 'extra').status, 2, 'media-boot takes no argument');
  assert.is(sh('n1.sh', 'eject', 'extra').status, 2, 'eject takes no argument');
  // all.sh: the new subcommands are known (an unknown node fails its line, exit 1; not usage, 2).
  for (const sub of ['media-boot', 'eject']) {
    p = sh('all.sh', sub, 'nope');
    assert.is(p.status, 1, p.stderr);
    assert.match(p.stdout, /^nope: FAILED \(no node of this site with a bmc:\)\n$/);
  }
  assert.is(sh('all.sh', 'eject-all').status, 2);
});

test('an option after the subcommand (`media-boot --dry-run`) is refused with the command line it meant, before any request', async () => {
  const { dir, bin, calls, sh } = await mediumScripts('bmc-option-order');
  for (const tool of ['curl', 'jq', 'ipmitool'])
    writeFileSync(join(bin, tool), `#!/bin/sh\necho ${tool} >>'${calls}'\nexit 99\n`, { mode: 0o755 });
  const cases: [string[], string][] = [
    [['n1.sh', 'media-boot', '--dry-run'], `${join(dir, 'n1.sh')} --dry-run media-boot`],
    [['n1.sh', 'media-boot', '--dry-run', '--keep-override'], `${join(dir, 'n1.sh')} --dry-run --keep-override media-boot`],
    [
      ['n1.sh', 'virtual-media', 'http://10.0.0.1/x.iso', '--dry-run'],
      `${join(dir, 'n1.sh')} --dry-run virtual-media http://10.0.0.1/x.iso`,
    ],
    [['n3.sh', 'pxe-once', '--dry-run'], `${join(dir, 'n3.sh')} --dry-run pxe-once`],
    [['all.sh', 'media-boot', 'n1', '--dry-run'], `${join(dir, 'all.sh')} --dry-run media-boot n1`],
  ];
  for (const [args, meant] of cases) {
    const p = sh(...args);
    assert.is(p.status, 2, `${args.join(' ')}: ${p.stderr}`);
    const lines = p.stderr.split('\n');
    assert.is(lines[0], `options come before the subcommand: ${meant}`, p.stderr);
    assert.match(lines[1] ?? '', /^usage: /);
  }
  assert.not.ok(existsSync(calls), 'no request was sent');
  // Before the subcommand, the same option is taken (the dry run reaches the stand-in curl).
  assert.is(sh('n1.sh', '--dry-run', 'media-boot').status, 1);
});

test('the BMC password reaches no program the script runs: read by the shell before any starts, then unset', async () => {
  const { dir, bin, calls, sh } = await mediumScripts('bmc-password');
  // Every program the scripts may run, wrapped: each call is recorded, and so is one that sees the password.
  const leaks = join(dir, 'leaks');
  const tools = ['printenv', 'mktemp', 'rm', 'tr', 'sed', 'cat', 'date', 'sleep', 'grep', 'head', 'mkdir', 'env'];
  for (const tool of tools) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(
      join(bin, tool),
      `#!/bin/sh\necho ${tool} >>'${calls}'\n[ -z "\${BMC_PASSWORD+x}" ] || echo ${tool} >>'${leaks}'\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
  }
  for (const tool of ['curl', 'jq', 'ipmitool'])
    writeFileSync(
      join(bin, tool),
      `#!/bin/sh\necho ${tool} >>'${calls}'\n[ -z "\${BMC_PASSWORD+x}" ] || echo ${tool} >>'${leaks}'\nexit 99\n`,
      {
        mode: 0o755,
      },
    );
  for (const run of [
    ['n1.sh', 'power-status'],
    ['n1.sh', 'no-such-subcommand'],
    ['n3.sh', 'power-status'],
    ['n1.sh', 'media-boot'],
  ]) {
    const p = sh(...run);
    assert.ok(p.status !== 0, `${run.join(' ')}: the stand-in BMC tools fail`);
  }
  const ran = readFileSync(calls, 'utf8');
  for (const tool of ['mktemp', 'rm', 'curl', 'ipmitool']) assert.ok(ran.includes(`${tool}\n`), `${tool} ran (${ran.replace(/\n/g, ' ')})`);
  assert.not.ok(existsSync(leaks), `programs that saw BMC_PASSWORD: ${existsSync(leaks) ? readFileSync(leaks, 'utf8') : ''}`);
});

test("install.iso_url: local (v1.9, medium: iso): the Redfish script names the node's own release ISO, which media-boot mounts beside the boot ISO; other nodes name none", async () => {
  // The media fixture (hv-m1 a Harvester node, os-m1 a generic one, both medium: iso) at v1.9, with
  // hv-m2, which the site's artifacts URL gives a release of its own (harvester_version).
  const compileMedia = async (change: (doc: MediaDoc) => void) => {
    const r = await compileSite(
      mediaSite((doc) => {
        doc.harvester = { version: 'v1.9.0', artifacts: 'http://10.0.9.5/real_media/v1.9.0' };
        doc.nodes.push({ hostname: 'hv-m2', mac: '52:54:00:4d:00:03', ip: '10.0.5.13', role: 'join', bmc: { address: '10.0.5.203' } });
        change(doc);
      }),
    );
    assert.equal(
      r.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const f = files(r.artifacts);
    const line = (host: string) =>
      f
        .get(`bmc/${host}.sh`)!
        .split('\n')
        .find((l) => l.startsWith('harvester_iso_url='));
    return { model: r.model as SiteModel, line };
  };
  const local = await compileMedia((doc) => (doc.nodes[0].install = { iso_url: 'local' }));
  const hv1 = local.model.nodes[0] as HarvesterNode;
  assert.is(hv1.release.isoUrl, 'http://10.0.9.5/real_media/v1.9.0/harvester-v1.9.0-amd64.iso');
  assert.is(local.line('hv-m1'), `harvester_iso_url=${hv1.release.isoUrl}`, 'install.iso_url: local');
  assert.is(local.line('os-m1'), "harvester_iso_url=''", 'a generic node');
  assert.is(local.line('hv-m2'), "harvester_iso_url=''", 'a node whose installer downloads the ISO');
  assert.is(harvesterIsoUrl(local.model, { ...hv1, medium: 'network' }), '', 'a node without a boot ISO has no second medium');
  // Through `config:`, on a node whose release is not the site's: that release's ISO.
  const own = await compileMedia((doc) => {
    doc.harvester = { version: 'v1.8.1', artifacts: 'http://10.0.9.5/real_media/v1.8.1' };
    doc.nodes[2].harvester_version = 'v1.9.0';
    doc.nodes[2].config = { install: { iso_url: 'local' } };
  });
  const hv2 = own.model.nodes[2] as HarvesterNode;
  assert.is(hv2.release.isoUrl, 'http://10.0.9.5/real_media/v1.9.0/harvester-v1.9.0-amd64.iso');
  assert.is(own.line('hv-m2'), `harvester_iso_url=${hv2.release.isoUrl}`, 'config: install.iso_url: local, its own release');
  assert.is(own.line('hv-m1'), "harvester_iso_url=''");
  // harvester.iso_url names the site's ISO: that one.
  const named = await compileMedia((doc) => {
    doc.harvester.iso_url = 'http://10.0.9.5/isos/harvester-v1.9.0-amd64.iso';
    doc.nodes[0].install = { iso_url: 'local' };
  });
  assert.is(named.line('hv-m1'), 'harvester_iso_url=http://10.0.9.5/isos/harvester-v1.9.0-amd64.iso');
  // The IPMI script has no virtual media to put it in (it names the boot ISO only).
  const ipmi = await compileMedia((doc) => {
    doc.nodes[0].install = { iso_url: 'local' };
    doc.nodes[0].bmc = { address: '10.0.5.201', type: 'ipmi' };
  });
  assert.is(ipmi.line('hv-m1'), undefined);
});

// Past the schema (a bug, or a model built by other code), each value is still one inert shell
// word: sh reads back exactly the value, runs nothing, and the script still parses; a value no
// quoting can hold (a newline, a leading `-`) is refused.
const HOSTILE = ['$(touch /tmp/harvgen-pwned)', '`id`', "'; rm -rf / #", 'a b', '*', '${IFS}', 'x"y', 'a\\', '~root', 'a|b&c;d', '$HOME'];

test('hostile values that pass no schema still land in the scripts as one inert word each', async () => {
  const base = await compile([node(1, { bmc: { address: '10.0.1.1' } }), node(2, { bmc: { address: '10.0.1.2', type: 'ipmi' } })]);
  assert.ok(base.model);
  const model = base.model as SiteModel;
  const dir = tempDir('bmc-hostile');
  for (const value of HOSTILE) {
    for (const n of model.nodes as readonly (ResolvedNode & { bmc: ResolvedBmc })[]) {
      const bmc: ResolvedBmc = { ...n.bmc, address: value, host: value, system: value, userEnv: value, passwordEnv: value };
      // The boot ISO's URL too (boot.server and the hostname are in it).
      const hostileModel = { ...model, site: value, boot: { ...model.boot, server: `http://10.0.0.1/${value}` } };
      const hostileNode = { ...n, hostname: value, medium: 'iso' as const, bmc };
      const text = renderBmcScript(hostileModel, hostileNode);
      const file = join(dir, 'x.sh');
      writeFileSync(file, text);
      execFileSync('sh', ['-n', file]);
      // The assignments, read back by sh.
      // (Not `tmp=$(mktemp -d)`: the script's own temporary directory.)
      const assignments = text.split('\n').filter((l) => /^[a-z_]+=/.test(l) && !l.startsWith('tmp='));
      const names =
        n.bmc.type === 'redfish'
          ? ['node', 'site', 'address', 'system', 'user_env', 'password_env']
          : ['node', 'site', 'host', 'user_env', 'password_env'];
      const out = execFileSync(
        'sh',
        ['-c', `${assignments.join('\n')}\nprintf '%s\\n' ${names.map((v) => `"$${v}"`).join(' ')} "$medium_url"`],
        { encoding: 'utf8' },
      );
      const url = mediumUrl(hostileModel, hostileNode);
      assert.ok(url?.includes(value));
      assert.is(out, `${names.map(() => `${value}\n`).join('')}${url}\n`, `${n.bmc.type} ${JSON.stringify(value)}`);
    }
    const all = renderBmcAll({ ...model, nodes: model.nodes.map((n) => ({ ...n, hostname: value })) });
    writeFileSync(join(dir, 'all.sh'), all);
    execFileSync('sh', ['-n', join(dir, 'all.sh')]);
  }
  const n = model.nodes[0] as ResolvedNode & { bmc: ResolvedBmc };
  for (const value of ['a\nb', '-x', 'x\u2028y'])
    assert.throws(() => renderBmcScript(model, { ...n, bmc: { ...n.bmc, address: value } }), /cannot be written safely/);
});

test('one BMC in `defaults` shared by three nodes, one named all: reported as a walk over the nodes in order finds it first', async () => {
  const loaded = await loadSite(join(repo, 'sites/location_x'));
  const input = structuredClone(loaded.input) as Record<string, any>;
  // The secrets as resolved (validateSite takes the inventory after secret resolution).
  input.cluster.token = 'K10-bmc-test-token';
  input.cluster.password = 'bmc-test-password';
  input.defaults.bmc = { address: '10.0.0.5' };
  input.nodes[2].hostname = 'all';
  const found = validateSite(input, loaded.locate, loaded.layers).diagnostics.filter((d) => d.code === 'BMC_INVALID');
  // The first finding at `defaults.bmc.address` is the pair the second node makes; the others
  // (the third node's name, the pair it makes) are named after it.
  assert.equal(
    found.map((d) => d.message),
    [
      'nodes hv-1 and hv-2 name the same BMC (10.0.0.5): a script of one would power-cycle the other (set in defaults; also nodes all, all)',
    ],
  );
});

test("the Redfish script says why curl got no answer: a certificate it does not trust is no 'no answer'", async () => {
  const { bin, sh } = await mediumScripts('bmc-curl-exit');
  writeFileSync(join(bin, 'jq'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const with_ = (status: number, said: string) =>
    writeFileSync(join(bin, 'curl'), `#!/bin/sh\ncat >/dev/null\necho 'curl: (${status}) ${said}' >&2\nexit ${status}\n`, { mode: 0o755 });
  const cases: [number, string, RegExp][] = [
    [
      60,
      'SSL certificate problem: self-signed certificate',
      /TLS failed \(curl exit 60\): a certificate this machine does not trust .*bmc\.insecure: true/,
    ],
    [7, 'Failed to connect', /no connection to the BMC at 10\.0\.1\.1: refused or unreachable \(curl exit 7\)/],
    [28, 'Operation timed out', /did not answer in time \(curl exit 28\)/],
    [2, 'Failed initialization', /no answer from the BMC at 10\.0\.1\.1 \(curl exit 2\)/],
  ];
  for (const [status, said, message] of cases) {
    with_(status, said);
    const p = sh('n1.sh', 'power-status');
    assert.is(p.status, 1, p.stderr);
    assert.match(p.stderr, message, p.stderr);
    if (status === 60) assert.not.match(p.stderr, 'no answer');
  }
});

test.run();
