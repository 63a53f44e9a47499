// Per-node access in the generated nginx (nginx.access, nginx.real_ip; src/render/access.ts): the
// rendered files carry an exact location with its `allow` list for every file that holds a secret
// or one node's data, manifest.json lists the same addresses, and the DHCP pool is written as the
// fewest CIDR blocks that hold exactly its addresses. The real nginx proof is test/real/access.test.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { compileSite, type Manifest } from '../src/index.ts';
import { status } from '../src/status/index.ts';
import { formatIpv4, parseIpv4, rangeToCidrs } from '../src/util/ipv4.ts';
import { parseLocations } from './helpers/nginx-access.ts';
import { mediaLoaders } from './helpers/media.ts';
import { tempDir } from './helpers/tmp.ts';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/real/access');
/** boot.server's host: nginx also serves every protected file to it and to loopback (the boot server itself). */
const BOOT_HOST = '10.77.0.1';
const POOL = ['10.77.0.100/30', '10.77.0.104/29', '10.77.0.112/28', '10.77.0.128/26', '10.77.0.192/29'];

/** The reference cover: walk the tree of CIDR blocks from 0.0.0.0/0, keeping a block wholly inside the range. */
function treeCover(start: number, end: number, base = 0, prefix = 0): string[] {
  const last = base + 2 ** (32 - prefix) - 1;
  if (last < start || base > end) return [];
  if (base >= start && last <= end) return [`${formatIpv4(base)}/${prefix}`];
  const half = 2 ** (31 - prefix);
  return [...treeCover(start, end, base, prefix + 1), ...treeCover(start, end, base + half, prefix + 1)];
}

const ip = (s: string) => parseIpv4(s)!;

test('the DHCP pool is the fewest CIDR blocks holding exactly its addresses', () => {
  const cases: [string, string, string[]][] = [
    ['10.77.0.100', '10.77.0.199', POOL],
    [
      '192.168.122.150',
      '192.168.122.250',
      [
        '192.168.122.150/31',
        '192.168.122.152/29',
        '192.168.122.160/27',
        '192.168.122.192/27',
        '192.168.122.224/28',
        '192.168.122.240/29',
        '192.168.122.248/31',
        '192.168.122.250/32',
      ],
    ],
    [
      '10.20.0.200',
      '10.20.0.250',
      ['10.20.0.200/29', '10.20.0.208/28', '10.20.0.224/28', '10.20.0.240/29', '10.20.0.248/31', '10.20.0.250/32'],
    ],
    ['10.0.0.0', '10.0.0.255', ['10.0.0.0/24']],
    ['10.0.0.7', '10.0.0.7', ['10.0.0.7/32']],
    ['0.0.0.0', '255.255.255.255', ['0.0.0.0/0']],
    ['255.255.255.254', '255.255.255.255', ['255.255.255.254/31']],
    [
      '10.0.0.1',
      '10.0.1.254',
      [
        '10.0.0.1/32',
        '10.0.0.2/31',
        '10.0.0.4/30',
        '10.0.0.8/29',
        '10.0.0.16/28',
        '10.0.0.32/27',
        '10.0.0.64/26',
        '10.0.0.128/25',
        '10.0.1.0/25',
        '10.0.1.128/26',
        '10.0.1.192/27',
        '10.0.1.224/28',
        '10.0.1.240/29',
        '10.0.1.248/30',
        '10.0.1.252/31',
        '10.0.1.254/32',
      ],
    ],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(rangeToCidrs(ip(a), ip(b)), want, `${a}-${b}`);
    assert.equal(rangeToCidrs(ip(a), ip(b)), treeCover(ip(a), ip(b)), `${a}-${b} against the reference`);
  }
  assert.equal(rangeToCidrs(ip('10.0.0.9'), ip('10.0.0.8')), [], 'a reversed range covers nothing');
  // Random ranges: the same blocks as the reference walk (which is minimal: every block it keeps
  // has a parent that is not wholly inside), and together exactly the range.
  let seed = 22;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
  for (let i = 0; i < 300; i++) {
    const s = (rnd() * 2 ** 8 + (rnd() % 256)) % 2 ** 32;
    const e = Math.min(2 ** 32 - 1, s + (rnd() % (i % 2 ? 70_000 : 600)));
    const got = rangeToCidrs(s, e);
    assert.equal(got, treeCover(s, e), `${formatIpv4(s)}-${formatIpv4(e)}`);
    const size = got.reduce((n, c) => n + 2 ** (32 - Number(c.split('/')[1])), 0);
    assert.is(size, e - s + 1, `${formatIpv4(s)}-${formatIpv4(e)}: the blocks hold exactly the range`);
  }
});

/** A copy of the access fixture with `change` applied to its inventory. */
function variant(change: (doc: Record<string, any>) => void): string {
  const doc = parse(readFileSync(join(FIXTURE, 'site.yaml'), 'utf8')) as Record<string, any>;
  change(doc);
  const dir = join(tempDir('access'), String(doc.site));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

async function compiled(dir: string) {
  const site = await compileSite(dir);
  const errors = site.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors, [], 'the site compiles');
  const file = (p: string) => site.artifacts!.find((a) => a.path === p)!.contents as string;
  return { site, file, manifest: JSON.parse(file('manifest.json')) as Manifest };
}

/** What each protected file of the access fixture may be fetched by. */
const EXPECTED: Record<string, string[]> = {
  'harvester/ac-reserved.yaml': ['10.77.0.11'],
  'harvester/ac-static.yaml': ['10.77.0.12'],
  'harvester/ac-pool.yaml': POOL,
  // A node that boots its disk keeps its config (for a reinstall), protected like the others.
  'harvester/ac-local.yaml': ['10.77.0.15'],
  'cloud-init/52-54-00-ac-00-05/meta-data': ['10.77.0.14'],
  'cloud-init/52-54-00-ac-00-05/user-data': ['10.77.0.14'],
  'cloud-init/52-54-00-ac-00-05/vendor-data': ['10.77.0.14'],
  'unknown/join.yaml': POOL,
};

test("every file with a secret or one node's data gets an exact location allowing only its fetchers, in both nginx files and in manifest.json", async () => {
  const { file, manifest, site } = await compiled(FIXTURE);
  const allowed = Object.fromEntries(manifest.files.flatMap((f) => (f.allow ? [[f.path, f.allow]] : [])));
  assert.equal(allowed, EXPECTED, 'manifest.json files[].allow');
  assert.equal(manifest.boot.verifiers, ['127.0.0.0/8', '::1', BOOT_HOST], 'manifest.json boot.verifiers: loopback and boot.server');
  for (const f of manifest.files) {
    if (/^(harvester|cloud-init|unknown)\//.test(f.path)) assert.ok(f.allow && f.url, `${f.path}: served, with allow`);
    else assert.is(f.allow, undefined, `${f.path}: open to all, no allow`);
  }
  for (const name of ['nginx/harvgen.conf', 'nginx/locations.conf']) {
    const locs = parseLocations(file(name));
    for (const [path, allow] of Object.entries(EXPECTED)) {
      const l = locs.filter((x) => x.kind === '=' && x.match === `/access/${path}`);
      assert.is(l.length, 1, `${name}: one exact location for ${path}`);
      // The boot server itself first (harvgen verify there reads every file: manifest boot.verifiers), then the file's fetchers.
      assert.equal(l[0]!.allow, [...manifest.boot.verifiers!, ...allow], `${name} ${path}: allow`);
      assert.ok(l[0]!.denyAll, `${name} ${path}: deny all after the allow list`);
    }
    // Nothing else is restricted, and no pattern serves a protected directory to anyone.
    assert.is(locs.filter((l) => l.denyAll || l.allow.length > 0).length, Object.keys(EXPECTED).length, `${name}: restricted locations`);
    assert.not.ok(
      locs.some((l) => l.kind === '~' && /\/(harvester|cloud-init|unknown)\//.test(l.match)),
      `${name}: no regex location for node data`,
    );
    assert.ok(
      locs.some((l) => l.kind === '~' && /ipxe/.test(l.match)),
      `${name}: the scripts stay open by pattern`,
    );
  }
  assert.ok(
    site.diagnostics.some((d) => d.code === 'NODE_FILES_OPEN_TO_POOL' && d.path === 'nodes[2]'),
    'ac-pool is warned about',
  );
  assert.not.ok(file('nginx/harvgen.conf').includes('real_ip'), 'no realip without nginx.real_ip');
});

test('nginx.access: open serves the node directories by pattern to everyone, as before, with no allow in manifest.json', async () => {
  const { file, manifest, site } = await compiled(variant((d) => (d.nginx = { access: 'open' })));
  for (const name of ['nginx/harvgen.conf', 'nginx/locations.conf']) {
    const text = file(name);
    assert.not.match(text, /^\s*(allow|deny) /m, `${name}: no access rules`);
    for (const dir of ['harvester', 'cloud-init'])
      assert.match(text, new RegExp(`location ~ "\\^/access/${dir}/\\(`), `${name}: ${dir}/ by pattern`);
    assert.match(text, /location = \/access\/unknown\/join\.yaml \{/);
  }
  assert.ok(manifest.files.every((f) => f.allow === undefined));
  assert.not.ok(
    site.diagnostics.some((d) => d.code === 'NODE_FILES_OPEN_TO_POOL'),
    'no pool warning when access is open',
  );
});

test('nginx.access: open keeps the configs and seeds of the nodes that boot from an image to their own ip, in front of the patterns; their images and every other file stay open', async () => {
  const { file, manifest } = await compiled(
    variant((d) => {
      d.nginx = { access: 'open' };
      d.boot.media_loaders = mediaLoaders();
      d.nodes.push(
        { hostname: 'ac-iso', mac: '52:54:00:ac:00:07', ip: '10.77.0.17', method: 'static', medium: 'iso', bmc: { address: '10.88.0.17' } },
        {
          hostname: 'ac-usb',
          mac: '52:54:00:ac:00:08',
          ip: '10.77.0.18',
          method: 'static',
          medium: 'usb',
          os: 'tiny',
          bmc: { address: '10.88.0.18' },
        },
      );
    }),
  );
  const bound = {
    'cloud-init/52-54-00-ac-00-08/meta-data': ['10.77.0.18'],
    'cloud-init/52-54-00-ac-00-08/user-data': ['10.77.0.18'],
    'cloud-init/52-54-00-ac-00-08/vendor-data': ['10.77.0.18'],
    'harvester/ac-iso.yaml': ['10.77.0.17'],
  };
  assert.equal(
    Object.fromEntries(manifest.files.flatMap((f) => (f.allow ? [[f.path, f.allow]] : []))),
    bound,
    'manifest.json files[].allow',
  );
  assert.equal(manifest.boot.verifiers, ['127.0.0.0/8', '::1', BOOT_HOST], 'boot.verifiers: verify reads them on the boot server');
  assert.ok(
    manifest.files.some((f) => f.path === 'media/shared.boot.iso' && f.url && !f.allow),
    'the ISO is open',
  );
  assert.ok(
    manifest.files.some((f) => f.path === 'media/shared.boot.img' && f.url && !f.allow),
    'the USB image is open',
  );
  for (const name of ['nginx/harvgen.conf', 'nginx/locations.conf']) {
    const locs = parseLocations(file(name));
    const restricted = locs.filter((l) => l.denyAll || l.allow.length > 0);
    assert.equal(
      restricted.map((l) => [l.kind, l.match, l.allow]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      Object.entries(bound).map(([p, allow]) => ['=', `/access/${p}`, [...manifest.boot.verifiers!, ...allow]]),
      `${name}: an exact location for each, and nothing else restricted`,
    );
    for (const dir of ['harvester', 'cloud-init', 'media'])
      assert.ok(
        locs.some((l) => l.kind === '~' && l.match.includes(`/access/${dir}/`)),
        `${name}: ${dir}/ still by pattern for the others`,
      );
    assert.ok(locs.some((l) => l.match === '/access/unknown/join.yaml' && !l.denyAll));
  }
  // Without a medium the site is as before: no rules at all.
  const plain = await compiled(variant((d) => (d.nginx = { access: 'open' })));
  assert.ok(plain.manifest.files.every((f) => f.allow === undefined) && plain.manifest.boot.verifiers === undefined);
});

test("status: under nginx.access: open a media node's config refused (403) is put down to its access rules, a network node's to the file", async () => {
  const dir = variant((d) => {
    d.nginx = { access: 'open' };
    d.boot.media_loaders = mediaLoaders();
    d.nodes.push({
      hostname: 'ac-iso',
      mac: '52:54:00:ac:00:07',
      ip: '10.77.0.17',
      method: 'static',
      medium: 'iso',
      bmc: { address: '10.88.0.17' },
    });
  });
  const log = join(tempDir('access-status'), 'access.log');
  const line = (ip: string, path: string) =>
    `${ip} - - [26/Nov/2026:22:00:00 +0000] "GET /access/${path} HTTP/1.1" 403 100 "-" "curl/7.88"`;
  writeFileSync(log, [line('10.77.0.17', 'harvester/ac-iso.yaml'), line('10.77.0.12', 'harvester/ac-static.yaml')].join('\n') + '\n');
  const r = await status({ sites: [dir], logs: [log] });
  const problems = (host: string) => r.nodes.find((n) => n.hostname === host)!.problems.join('\n');
  assert.match(
    problems('ac-iso'),
    "its access rules (kept under nginx.access: open for a node that boots from an image) allow only the node's addresses (10.77.0.17)",
  );
  assert.match(problems('ac-static'), 'nginx may not read the file');
});

test('nginx.real_ip goes into the server block once, and into each protected location of locations.conf', async () => {
  const { file } = await compiled(
    variant((d) => (d.nginx = { real_ip: { from: ['10.77.0.2', '172.16.0.0/12'], header: 'X-Forwarded-For' } })),
  );
  const server = file('nginx/harvgen.conf');
  assert.match(
    server,
    /\n {4}set_real_ip_from 10\.77\.0\.2;\n {4}set_real_ip_from 172\.16\.0\.0\/12;\n {4}real_ip_header X-Forwarded-For;\n/,
  );
  assert.is(server.match(/real_ip_header/g)!.length, 1, 'one real_ip_header in the server block');
  const locs = parseLocations(file('nginx/locations.conf'));
  for (const l of locs) {
    const guarded = l.denyAll;
    assert.equal(l.realIpFrom, guarded ? ['10.77.0.2', '172.16.0.0/12'] : [], `${l.match}: set_real_ip_from`);
    assert.is(l.realIpHeader, guarded ? 'X-Forwarded-For' : undefined, `${l.match}: real_ip_header`);
  }
  assert.not.match(file('nginx/locations.conf'), /^ {4}(set_real_ip_from|real_ip_header) /m, 'nothing at server level in a shared file');
});

test('nginx.real_ip is checked: blocks with host bits, bad addresses and header names are refused at their value', async () => {
  const cases: [unknown, string, string][] = [
    [{ from: ['10.77.0.5/24'], header: 'X-Real-IP' }, 'NET_CIDR_INVALID', 'nginx.real_ip.from[0]'],
    [{ from: ['10.77.0.300'], header: 'X-Real-IP' }, 'SCHEMA_PATTERN', 'nginx.real_ip.from[0]'],
    [{ from: ['10.77.0.2'], header: 'X-Real IP;' }, 'SCHEMA_PATTERN', 'nginx.real_ip.header'],
    [{ from: ['10.77.0.2'] }, 'SCHEMA_REQUIRED', 'nginx.real_ip'],
    [{ from: [], header: 'X-Real-IP' }, 'SCHEMA_RANGE', 'nginx.real_ip.from'],
  ];
  for (const [realIp, code, path] of cases) {
    const site = await compileSite(variant((d) => (d.nginx = { real_ip: realIp })));
    const errors = site.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path}`);
    assert.ok(errors.includes(`${code} ${path}`), `${JSON.stringify(realIp)}: expected ${code} at ${path}; got ${errors.join(', ')}`);
  }
  const site = await compileSite(variant((d) => (d.nginx = { access: 'everyone' })));
  assert.ok(
    site.diagnostics.some((d) => d.code === 'SCHEMA_ENUM' && d.path === 'nginx.access'),
    'nginx.access is nodes or open',
  );
});

test('the example sites protect every node config, each for its own address', async () => {
  for (const [name, nodes] of [
    ['location_x', 3],
    ['location_y', 4],
  ] as const) {
    const { manifest, file } = await compiled(resolve(import.meta.dirname, '../sites', name));
    const guarded = manifest.files.filter((f) => f.allow);
    assert.is(guarded.length, nodes, `${name}: protected files`);
    for (const n of manifest.nodes) {
      const f = manifest.files.find((x) => x.path === n.config!.path)!;
      assert.equal(f.allow, [n.ip], `${name} ${n.hostname}`);
    }
    assert.is(parseLocations(file('nginx/harvgen.conf')).filter((l) => l.denyAll).length, nodes);
  }
});

test.run();
