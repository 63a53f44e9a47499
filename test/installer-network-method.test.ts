// The management network as the installer reads it: the case of `method` (lower-cased on the way
// to the validator, src/harvester/installer-values.ts) and the MTU range (checked for a static
// network only), and the VLAN of `config:` against the node's. A case table per rule, each case
// naming the installer's file and function at the tag it was read at. The site has one create node
// (c) and one joining node (j); a case sets `method`/`mtu`/`vlan` on one, as a node field or under
// `config:`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, unknown>;

interface Case {
  v: string;
  /** Node fields of the joining node (`method`, `mtu`). */
  field?: Doc;
  /** `install.management_interface` keys under the joining node's `config:`. */
  config?: Doc;
  /** Errors expected, `CODE path`, exactly. */
  want: string[];
  /** The installer source that decides the case: repository, file, function, tag. */
  src: string;
}

function site(c: Case): string {
  const nodes = ['c', 'j'].map((h, i) => ({
    hostname: h,
    mac: `52:54:00:00:00:0${i + 1}`,
    ip: `10.0.0.${i + 11}`,
    ...(h === 'c' ? { role: 'create' } : {}),
    install: { device: '/dev/disk/by-id/os' },
    ...(h === 'j' ? (c.field ?? {}) : {}),
    ...(h === 'j' && c.config ? { config: { install: { management_interface: c.config } } } : {}),
  }));
  const doc: Doc = {
    site: 'netmethod',
    harvester: { version: c.v, artifacts: `http://10.0.0.1/artifacts/${c.v}` },
    boot: { server: 'http://10.0.0.1' },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: { env: 'NM_TOKEN' }, password: { env: 'NM_PASSWORD' } },
    nodes,
  };
  const root = tempDir('installer-network-method');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites', 'netmethod');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}
process.env.NM_TOKEN = 'token.12345';
process.env.NM_PASSWORD = 'password.12345';

/** The errors of a case, `CODE path`, sorted. */
async function run(c: Case): Promise<string[]> {
  const r = await check({ sites: [site(c)] });
  return r.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code} ${d.path ?? ''}`)
    .sort();
}

const HI = 'harvester/harvester-installer pkg/console/validator.go checkNetworks';
const H19 = 'harvester/harvester pkg/installer/console/validator.go checkNetworks @v1.9.0-rc6';
const ENUM = 'SCHEMA_ENUM nodes[1].method';
const CFG = 'HARVESTER_CONFIG_INVALID nodes[1].config.install.management_interface';

const PANEL = 'harvester/harvester-installer pkg/console/install_panels.go (strings.ToLower before validateConfig)';
const PANEL19 = 'harvester/harvester pkg/installer/console/install_panels.go:2595 (strings.ToLower) @v1.9.0-rc6';

/**
 * Rule method-case: on the automatic install path the installer lower-cases `method` (and
 * `vip_mode`) of its config before checkNetworks compares it with `dhcp` and `static`, so `DHCP`
 * and `Static` under `config:` are read as `dhcp` and `static` in every release; a word that is
 * neither once lower-cased (`Statik`) fails it ("management network must configure with either
 * static or DHCP method"). harvgen's own `method` field is its inventory's: `dhcp` or `static`.
 */
const METHOD_CASES: [string, Case][] = [
  ['method: DHCP (field), v1.2', { v: 'v1.2.0', field: { method: 'DHCP' }, want: [ENUM], src: 'harvgen schema (its own field)' }],
  ['method: Static (field), v1.8', { v: 'v1.8.0', field: { method: 'Static' }, want: [ENUM], src: 'harvgen schema (its own field)' }],
  ['method: DHCP (config:), v1.5', { v: 'v1.5.0', config: { method: 'DHCP' }, want: [], src: `${PANEL} @v1.5.2 :2379` }],
  ['method: Static (config:), v1.9', { v: 'v1.9.0', config: { method: 'Static' }, want: [], src: PANEL19 }],
  [
    'method: STATİC (config:, a dotted capital I), v1.8',
    { v: 'v1.8.0', config: { method: 'STATİC' }, want: [], src: `${PANEL} @v1.8.1 :2592` },
  ],
  ['method: Statik (config:), v1.9', { v: 'v1.9.0', config: { method: 'Statik' }, want: [`${CFG}.method`], src: `${H19} (after ToLower)` }],
  ['method: dhcp (config:), v1.9', { v: 'v1.9.0', config: { method: 'dhcp' }, want: [], src: H19 }],
  ['method: static (field), v1.2', { v: 'v1.2.0', field: { method: 'static' }, want: [], src: `${HI} @v1.2.0` }],
];

/**
 * Rule vlan-config: the node's `vlan` tags its installer's kernel line; a `config:` vlan_id is what
 * the installed system tags (cos.go needVlanInterface: 2-4094; 0 and 1 untagged).
 */
const VLAN = 'NODE_VLAN_CONFIG_MISMATCH nodes[1].config.install.management_interface.vlan_id';
const VLAN_CASES: [string, Case][] = [
  [
    'vlan 100 (field), vlan_id 200 (config:)',
    {
      v: 'v1.8.0',
      field: { vlan: 100 },
      config: { vlan_id: 200 },
      want: [VLAN],
      src: `${HI} checkNetworks, cos.go needVlanInterface @v1.8.1`,
    },
  ],
  [
    'vlan 100 (field), vlan_id 100 (config:)',
    { v: 'v1.8.0', field: { vlan: 100 }, config: { vlan_id: 100 }, want: [], src: `${HI} @v1.8.1` },
  ],
  [
    'vlan 1 (field), vlan_id 0 (config:): both untagged',
    { v: 'v1.5.0', field: { vlan: 1 }, config: { vlan_id: 0 }, want: [], src: `${HI} cos.go @v1.5.2` },
  ],
  ['no vlan (field), vlan_id 200 (config:): one setting', { v: 'v1.9.0', config: { vlan_id: 200 }, want: [], src: H19 }],
];

/** Rule mtu-static: checkMTU (0, or 576-9000) is called in the `static` case of checkNetworks only. */
const MTU_CASES: [string, Case][] = [
  [
    'static, mtu 9001 (field)',
    { v: 'v1.8.0', field: { method: 'static', mtu: 9001 }, want: ['NODE_MTU_RANGE nodes[1].mtu'], src: `${HI} checkMTU @v1.8.0` },
  ],
  [
    'static, mtu 575 (field)',
    { v: 'v1.2.0', field: { method: 'static', mtu: 575 }, want: ['NODE_MTU_RANGE nodes[1].mtu'], src: `${HI} checkMTU @v1.2.0` },
  ],
  ['static, mtu 576 and 9000 are in range', { v: 'v1.9.0', field: { method: 'static', mtu: 576 }, want: [], src: `${H19} checkMTU` }],
  ['static, mtu 9000', { v: 'v1.5.0', field: { method: 'static', mtu: 9000 }, want: [], src: `${HI} checkMTU @v1.5.0` }],
  [
    'static, mtu 100 (config:)',
    { v: 'v1.9.0', field: { method: 'static' }, config: { mtu: 100 }, want: [`${CFG}.mtu`], src: `${H19} checkMTU` },
  ],
  [
    'static, mtu 0 (config:) is the default',
    { v: 'v1.4.0', field: { method: 'static' }, config: { mtu: 0 }, want: [], src: `${HI} checkMTU @v1.4.0` },
  ],
  [
    'dhcp, mtu 9001 (field): not checked',
    { v: 'v1.8.0', field: { mtu: 9001 }, want: [], src: `${HI} (case NetworkMethodDHCP returns) @v1.8.0` },
  ],
  ['dhcp, mtu 100 (config:): not checked', { v: 'v1.9.0', config: { mtu: 100 }, want: [], src: `${H19} (case NetworkMethodDHCP returns)` }],
  [
    'dhcp under config: over a static node field',
    { v: 'v1.3.0', field: { method: 'static' }, config: { method: 'dhcp', mtu: 100 }, want: [], src: `${HI} @v1.3.0` },
  ],
];

for (const [name, c] of [...METHOD_CASES, ...MTU_CASES, ...VLAN_CASES]) {
  test(`${name} (${c.src})`, async () => {
    assert.equal(await run(c), c.want);
  });
}

test('a method in another case under config: is the method: the kernel line and the served config say it in lower case', async () => {
  const dir = site({ v: 'v1.9.0', config: { method: 'STATIC' }, want: [], src: PANEL19 });
  const r = await compileSite(dir, { secrets: 'filled' });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const config = parse(r.artifacts!.find((a) => a.path === 'harvester/j.yaml')!.contents as string) as Doc;
  assert.is(((config.install as Doc).management_interface as Doc).method, 'static', 'written lower-cased, as the installer reads it');
  const script = r.artifacts!.find((a) => a.path === 'ipxe/52-54-00-00-00-02.ipxe')!.contents as string;
  assert.match(script, / ip=10\.0\.0\.12:/, 'the kernel line takes the static address of config:');
});

test('vip_mode in another case, and none, pass as the installer reads them (lower-cased; checkVip takes none)', async () => {
  for (const [mode, want] of [
    ['DHCP', 'dhcp'],
    ['none', 'none'],
  ] as const) {
    const dir = site({ v: 'v1.8.0', want: [], src: `${HI} checkVip @v1.8.1` });
    const doc = parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as Doc;
    (doc.nodes as Doc[])[0]!.config = { install: { vip_mode: mode, vip_hw_addr: '52:54:00:00:00:aa' } };
    writeFileSync(join(dir, 'site.yaml'), stringify(doc));
    const r = await compileSite(dir, { secrets: 'filled' });
    assert.equal(
      r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
      [],
      mode,
    );
    const config = parse(r.artifacts!.find((a) => a.path === 'harvester/c.yaml')!.contents as string) as Doc;
    assert.is((config.install as Doc).vip_mode, want);
  }
});

test.run();
