// The management network as the installer reads it: the case of `method` (compared exactly, not
// lowercased) and the MTU range (checked for a static network only). A case table per rule, each
// case naming the installer's file and function at the tag it was read at. The site has one create
// node (c) and one joining node (j); a case sets `method`/`mtu` on one, as a node field or under
// `config:`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check } from '../src/index.ts';
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

/**
 * Rule method-case: `method` is compared exactly (`method != config.NetworkMethodDHCP && method !=
 * config.NetworkMethodStatic`), never lowercased, so `DHCP` and `Static` fail the installer
 * ("management network must configure with either static or DHCP method") in every release; the
 * one `strings.ToLower` near it (console/util.go needToGetVIPFromDHCP) reads `vip_mode`, which
 * checkVip still compares exactly.
 */
const METHOD_CASES: [string, Case][] = [
  ['method: DHCP (field), v1.2', { v: 'v1.2.0', field: { method: 'DHCP' }, want: [ENUM], src: `${HI} @v1.2.0` }],
  ['method: Static (field), v1.8', { v: 'v1.8.0', field: { method: 'Static' }, want: [ENUM], src: `${HI} @v1.8.0` }],
  ['method: DHCP (config:), v1.5', { v: 'v1.5.0', config: { method: 'DHCP' }, want: [`${CFG}.method`], src: `${HI} @v1.5.0` }],
  ['method: Static (config:), v1.9', { v: 'v1.9.0', config: { method: 'Static' }, want: [`${CFG}.method`], src: H19 }],
  ['method: dhcp (config:), v1.9', { v: 'v1.9.0', config: { method: 'dhcp' }, want: [], src: H19 }],
  ['method: static (field), v1.2', { v: 'v1.2.0', field: { method: 'static' }, want: [], src: `${HI} @v1.2.0` }],
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

for (const [name, c] of [...METHOD_CASES, ...MTU_CASES]) {
  test(`${name} (${c.src})`, async () => {
    assert.equal(await run(c), c.want);
  });
}

test.run();
