// build(): golden trees, determinism, safe emitting, and the promises the output makes.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { exampleSite, exampleWithSecrets } from './helpers/example.ts';
import { build, check } from '../src/index.ts';
import { validateInstallerConfig } from '../src/harvester/installer-schema.ts';
import { modeOf, readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const update = process.env.UPDATE_GOLDEN === '1';

// Golden trees: the committed out/ of the example sites, and test/fixtures/build/<case>/expected.
const goldens: { name: string; site: string; expected: string }[] = [
  { name: 'example site location_x', site: join(repo, 'sites/location_x'), expected: join(repo, 'out/location_x') },
  { name: 'example site location_y', site: join(repo, 'sites/location_y'), expected: join(repo, 'out/location_y') },
  {
    // Layers: a node file, a node profile built on another, site defaults with a profile, repo defaults with a profile.
    name: 'fixture layers (lab_a)',
    site: join(repo, 'test/fixtures/layers/sites/lab_a'),
    expected: join(repo, 'test/fixtures/build/layers-lab_a/expected'),
  },
  {
    name: 'fixture bios-static',
    site: join(repo, 'test/fixtures/build/bios-static/site'),
    expected: join(repo, 'test/fixtures/build/bios-static/expected'),
  },
  // The Kea and ISC dhcpd forms (dhcp.server) of one inventory: every class of the split.
  {
    name: 'fixture dhcp-kea',
    site: join(repo, 'test/fixtures/build/dhcp-kea/site'),
    expected: join(repo, 'test/fixtures/build/dhcp-kea/expected'),
  },
  {
    name: 'fixture dhcp-isc',
    site: join(repo, 'test/fixtures/build/dhcp-isc/site'),
    expected: join(repo, 'test/fixtures/build/dhcp-isc/expected'),
  },
  // Metal3 BareMetalHosts (metal3.export): Redfish and IPMI BMCs, root device hints, a node without a BMC left out.
  {
    name: 'fixture metal3',
    site: join(repo, 'test/fixtures/build/metal3/site'),
    expected: join(repo, 'test/fixtures/build/metal3/expected'),
  },
  // ... of a Secure Boot site (UEFISecureBoot), install disks by serial, WWN, model and size, and by id.
  {
    name: 'fixture metal3-secure-boot',
    site: join(repo, 'test/fixtures/build/metal3-secure-boot/site'),
    expected: join(repo, 'test/fixtures/build/metal3-secure-boot/expected'),
  },
  // Two boot servers (failover:): keepalived and the HA hook's Kea config per server, nginx on every address.
  {
    name: 'fixture failover-kea',
    site: join(repo, 'test/fixtures/build/failover-kea/site'),
    expected: join(repo, 'test/fixtures/build/failover-kea/expected'),
  },
  // ... and with dnsmasq: each server half of the pool (an odd pool's extra address to the primary).
  {
    name: 'fixture failover-dnsmasq',
    site: join(repo, 'test/fixtures/build/failover-dnsmasq/site'),
    expected: join(repo, 'test/fixtures/build/failover-dnsmasq/expected'),
  },
  // A network without a pool (no dhcp_range): reservations only, in dnsmasq and libvirt's network.
  {
    name: 'fixture no-pool',
    site: join(repo, 'test/fixtures/build/no-pool/site'),
    expected: join(repo, 'test/fixtures/build/no-pool/expected'),
  },
  // IPv6: a dual-stack network served by dnsmasq, and an IPv6-only one served by Kea (DHCPv6 alone).
  {
    name: 'fixture dual-stack',
    site: join(repo, 'test/fixtures/build/dual-stack/site'),
    expected: join(repo, 'test/fixtures/build/dual-stack/expected'),
  },
  {
    name: 'fixture ipv6-kea',
    site: join(repo, 'test/fixtures/build/ipv6-kea/site'),
    expected: join(repo, 'test/fixtures/build/ipv6-kea/expected'),
  },
  // Tagged VLANs the boot server serves (network.vlans), in each DHCP form.
  {
    // A planned upgrade (harvester.upgrade, with apply): the Version and Upgrade objects, the apply script, the target's files served.
    name: 'fixture upgrade',
    site: join(repo, 'test/fixtures/build/upgrade/site'),
    expected: join(repo, 'test/fixtures/build/upgrade/expected'),
  },
  ...['vlan-scopes', 'vlan-kea', 'vlan-isc'].map((f) => ({
    name: `fixture ${f}`,
    site: join(repo, `test/fixtures/build/${f}/site`),
    expected: join(repo, `test/fixtures/build/${f}/expected`),
  })),
  {
    // BMC scripts: Redfish (defaults and a node's own system, IPv6 and port) and IPMI, on a UEFI HTTP boot site.
    name: 'fixture bmc',
    site: join(repo, 'test/fixtures/build/bmc/site'),
    expected: join(repo, 'test/fixtures/build/bmc/expected'),
  },
];

for (const g of goldens) {
  test(`${g.name} builds exactly its golden tree`, async () => {
    const out = tempDir();
    const result = await build({ sites: [g.site], outDir: out, cwd: repo });
    assert.ok(result.ok, JSON.stringify(result.diagnostics, null, 2));
    const dir = result.sites[0]!.dir;
    if (update) {
      rmSync(g.expected, { recursive: true, force: true });
      cpSync(dir, g.expected, { recursive: true });
    }
    const got = readTree(dir);
    const want = readTree(g.expected);
    assert.equal([...got.keys()], [...want.keys()], 'same file list (UPDATE_GOLDEN=1 npm run test:unit rewrites goldens)');
    for (const [path, text] of got) assert.fixture(text, want.get(path)!, `${path} differs from the golden file`);
    for (const path of got.keys()) assert.is(modeOf(join(dir, path)), modeOf(join(g.expected, path)), `${path} mode`);
  });
}

test('two builds from different working directories are byte-identical', async () => {
  const a = tempDir();
  const b = tempDir();
  await build({ sites: [join(repo, 'sites/location_x'), join(repo, 'sites/location_y')], outDir: a, cwd: repo });
  await build({ sites: ['../../sites/location_x', '../../sites/location_y'], outDir: b, cwd: join(repo, 'test/fixtures') });
  const ta = readTree(a);
  const tb = readTree(b);
  assert.ok(ta.size > 0, 'the builds wrote files');
  assert.equal([...ta.keys()], [...tb.keys()]);
  for (const [k, v] of ta) assert.ok(v === tb.get(k), `${k} differs between builds`);
});

test('an unchanged rebuild rewrites nothing and keeps mtimes', async () => {
  const out = tempDir();
  await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  const file = join(out, 'location_x/boot.ipxe');
  utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
  const second = await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  assert.equal(second.sites[0]!.written, []);
  assert.equal(second.sites[0]!.removed, []);
  assert.is(statSync(file).mtime.getFullYear(), 2000);
});

test('files no longer produced are removed, files harvgen never wrote are kept', async () => {
  const site = tempDir();
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const out = tempDir();
  await build({ sites: [site], outDir: out });
  writeFileSync(join(out, 'location_x/README.operator'), 'notes\n');
  const yaml = readFileSync(join(site, 'site.yaml'), 'utf8').replace(
    /  - hostname: hv-3\n    mac: 525400aabb03\n    ip: 192.168.122.13\n/,
    '',
  );
  writeFileSync(join(site, 'site.yaml'), yaml);
  const r = await build({ sites: [site], outDir: out });
  assert.ok(r.ok);
  assert.ok(r.sites[0]!.removed.includes('harvester/hv-3.yaml'));
  assert.not.ok(existsSync(join(out, 'location_x/harvester/hv-3.yaml')));
  assert.not.ok(existsSync(join(out, 'location_x/ipxe/52-54-00-aa-bb-03.ipxe')));
  assert.ok(existsSync(join(out, 'location_x/README.operator')));
});

test('--check reports a stale output tree and writes nothing', async () => {
  const out = tempDir();
  await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  writeFileSync(join(out, 'location_x/boot.ipxe'), '#!ipxe\necho tampered\n');
  const r = await build({ sites: [join(repo, 'sites/location_x')], outDir: out, check: true });
  assert.is(r.ok, false);
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_STALE' && d.message.includes('boot.ipxe differs')));
  assert.is(readFileSync(join(out, 'location_x/boot.ipxe'), 'utf8'), '#!ipxe\necho tampered\n');
});

test('an output directory that cannot be written is EMIT_WRITE_FAILED, not a crash', async () => {
  const out = tempDir();
  writeFileSync(join(out, 'location_x'), 'a file where a directory should be');
  const r = await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  assert.is(r.ok, false);
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_WRITE_FAILED'));
});

test('a symlink planted in the output directory cannot redirect a write outside it', async () => {
  const out = tempDir();
  const elsewhere = tempDir();
  mkdirSync(join(out, 'location_x'), { recursive: true });
  symlinkSync(elsewhere, join(out, 'location_x', 'harvester'));
  const r = await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  assert.is(r.ok, false);
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED' && /harvester: it is a symbolic link/.test(d.message)));
  assert.equal(readTree(elsewhere).size, 0);
});

test('two site directories with the same site name are refused', async () => {
  const copy = tempDir();
  cpSync(join(repo, 'sites/location_x'), copy, { recursive: true });
  const r = await check({ sites: [join(repo, 'sites/location_x'), copy] });
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_DUPLICATE_SITE'));
});

test('every iPXE script starts with the bytes "#!ipxe\\n" and no plaintext password is written', async () => {
  const out = tempDir();
  const r = await build({ sites: [join(repo, 'sites/location_x'), join(repo, 'sites/location_y')], outDir: out });
  // The loops below assert nothing over an empty tree: the build must have written both sites.
  assert.ok(r.ok, JSON.stringify(r.diagnostics, null, 2));
  assert.equal(
    r.sites.map((s) => s.site),
    ['location_x', 'location_y'],
  );
  let scripts = 0;
  for (const s of r.sites) {
    const tree = readTree(s.dir);
    assert.ok(tree.size > 0, `${s.site}: no files written`);
    for (const [path, text] of tree) {
      if (path.endsWith('.ipxe')) {
        assert.ok(text.startsWith('#!ipxe\n'), path);
        scripts++;
      }
      assert.not.ok(text.includes('SecretPassword.123'), `${path} contains the plaintext password`);
      assert.not.ok(/autoindex on/.test(text), `${path} enables autoindex`);
    }
  }
  assert.ok(scripts >= 2 * 2, `${scripts} iPXE scripts checked`);
});

test('plaintext passwords become SHA-512 crypt hashes, one per cluster (salt from the token)', async () => {
  const out = tempDir();
  await build({ sites: [exampleWithSecrets('location_x')], outDir: out, secrets: 'filled' });
  const hashes = ['hv-1', 'hv-2'].map(
    (h) => (parse(readFileSync(join(out, `location_x/harvester/${h}.yaml`), 'utf8')) as { os: { password: string } }).os.password,
  );
  for (const h of hashes) assert.match(h, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  assert.is(hashes[0], hashes[1], 'the nodes of a cluster share one hash (hashed once per build)');
});

test('the token stays out of every kernel command line', async () => {
  const out = tempDir();
  const r = await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics, null, 2));
  const scripts = [...readTree(join(out, 'location_x'))].filter(([path]) => path.endsWith('.ipxe'));
  assert.ok(scripts.length >= 2, `${scripts.length} iPXE scripts checked`);
  for (const [path, text] of scripts) assert.not.ok(text.includes('SecretToken.123'), path);
});

test('no file is served that lists every node: nginx serves only whitelisted paths', async () => {
  const out = tempDir();
  await build({ sites: [join(repo, 'sites/location_x')], outDir: out });
  const conf = readFileSync(join(out, 'location_x/nginx/harvgen.conf'), 'utf8');
  assert.match(conf, /autoindex off;/);
  assert.match(conf, /location \/ \{\s+return 404;/);
  assert.not.match(conf, /manifest/);
  const manifest = JSON.parse(readFileSync(join(out, 'location_x/manifest.json'), 'utf8')) as { files: { path: string; url?: string }[] };
  const served = manifest.files.filter((f) => f.url).map((f) => f.path);
  assert.ok(
    served.every((p) => /^(boot\.ipxe|unknown\.ipxe|ipxe\/[0-9a-f-]+\.ipxe|harvester\/[a-z0-9-]+\.yaml)$/.test(p)),
    served.join(','),
  );
});

test('the output directory of a site can only be the site name (no escape through site:)', async () => {
  const site = tempDir();
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'site.yaml'), stringify({ ...exampleSite(), site: '../../etc' }));
  const r = await build({ sites: [site], outDir: tempDir() });
  assert.is(r.ok, false);
  assert.ok(r.diagnostics.some((d) => d.code === 'SCHEMA_PATTERN' && d.path === 'site'));
});

test('every generated config, parsed back from its YAML text, passes the installer schema of its release', async () => {
  const sites = [
    'sites/location_x',
    'sites/location_y',
    'test/fixtures/build/bios-static/site',
    'test/fixtures/real/bios',
    'test/fixtures/real/uefi',
  ];
  // The deploy tree: the committed one holds markers the installer refuses (tested in secrets-split.test.ts).
  const dirs = sites.map((s) => (s.startsWith('sites/') ? exampleWithSecrets(s.slice('sites/'.length)) : join(repo, s)));
  const r = await build({ sites: dirs, outDir: tempDir(), secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  let checked = 0;
  for (const s of r.sites) {
    const manifest = JSON.parse(readFileSync(join(s.dir, 'manifest.json'), 'utf8')) as { harvester_version: string };
    const minor = manifest.harvester_version.replace(/^v(\d+\.\d+).*$/, '$1');
    for (const [path, text] of readTree(s.dir)) {
      if (!path.startsWith('harvester/')) continue;
      assert.equal(validateInstallerConfig(minor, parse(text)), [], `${s.site}/${path}`);
      checked++;
    }
  }
  assert.is(checked, 3 + 4 + 3 + 2 + 2);
});

test.run();
