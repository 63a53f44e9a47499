// `install.cordoned` (Harvester v1.9) and the releases to the patch, as the installer decides
// them: a case table per rule, on each side of its condition and of the v1.9.0 boundary, each case
// naming the installer's file and function at the tag it was read at. The site has a create node
// (c), a joining node (j) and a joining witness (w); a case sets `cordoned` on some of them, as a
// node field, under `config:`, or in `defaults:`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { INSTALLER_RULES } from '../src/harvester/installer-rules.ts';
import { KNOWN_RELEASES } from '../src/harvester/releases.ts';
import { tempDir } from './helpers/tmp.ts';
import { mapperBool } from '../src/harvester/installer-values.ts';

type Doc = Record<string, unknown>;
type Host = 'c' | 'j' | 'w';

interface Case {
  v: string;
  /** Nodes given `install.cordoned` as a field, with its value. */
  field?: Partial<Record<Host, boolean>>;
  /** Nodes given `install.cordoned` under their `config:` (a boolean, or what a user may write instead). */
  config?: Partial<Record<Host, unknown>>;
  /** `install.cordoned` in `defaults:`. */
  defaults?: boolean;
  /** The witness's role set under its `config:` (`install.role: witness`) instead of `harvester_role`. */
  witnessByConfig?: true;
  /** Watched diagnostics expected, `CODE path`, exactly. */
  want: string[];
  /** The installer source that decides the case: repository, file, function, tag. */
  src: string;
}

const CORD = 'INSTALLER_CORDONED_INVALID';
const TOO_NEW = 'HARVESTER_KEY_TOO_NEW';
const WATCHED = /^(INSTALLER_CORDONED|HARVESTER_)/;
const HOSTS: Host[] = ['c', 'j', 'w'];

function site(c: Case): string {
  const nodes = HOSTS.map((h, i) => {
    const install: Doc = { device: '/dev/disk/by-id/os' };
    if (c.field?.[h] !== undefined) install.cordoned = c.field[h];
    const cfgInstall: Doc = {};
    if (c.config?.[h] !== undefined) cfgInstall.cordoned = c.config[h];
    if (h === 'w' && c.witnessByConfig) cfgInstall.role = 'witness';
    return {
      hostname: h,
      mac: `52:54:00:00:00:0${i + 1}`,
      ip: `10.0.0.${i + 11}`,
      ...(h === 'c' ? { role: 'create' } : {}),
      ...(h === 'w' && !c.witnessByConfig ? { harvester_role: 'witness' } : {}),
      install,
      ...(Object.keys(cfgInstall).length > 0 ? { config: { install: cfgInstall } } : {}),
    };
  });
  const doc: Doc = {
    site: 'cordoned',
    harvester: { version: c.v, artifacts: `http://10.0.0.1/artifacts/${c.v}` },
    boot: { server: 'http://10.0.0.1' },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: { env: 'CORD_TOKEN' }, password: { env: 'CORD_PASSWORD' } },
    ...(c.defaults !== undefined ? { defaults: { install: { cordoned: c.defaults } } } : {}),
    nodes,
  };
  const root = tempDir('installer-cordoned');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites', 'cordoned');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}
process.env.CORD_TOKEN = 'token.12345';
process.env.CORD_PASSWORD = 'password.12345';

/** The watched diagnostics of a case (`CODE path`), failing on any other error. */
async function run(c: Case): Promise<string[]> {
  const r = await check({ sites: [site(c)] });
  const other = r.diagnostics.filter((d) => d.severity === 'error' && !WATCHED.test(d.code));
  assert.equal(
    other.map((d) => `${d.code} ${d.message}`),
    [],
    `${JSON.stringify(c)}: unrelated errors`,
  );
  return r.diagnostics
    .filter((d) => WATCHED.test(d.code))
    .map((d) => `${d.severity === 'warning' ? `${d.code}:w` : d.code} ${d.path ?? ''}`)
    .sort();
}

const V19 = 'harvester/harvester pkg/installer/console/validator.go commonCheck';
const V18 = 'harvester/harvester-installer pkg/config/config.go Install (no Cordoned: the key is dropped)';

/** Rule cordoned-create: not in create mode. */
const CREATE_CASES: [string, Case][] = [
  [
    'create node cordoned (field)',
    { v: 'v1.9.0', field: { c: true }, want: [`${CORD} nodes[0].install.cordoned`], src: `${V19} ErrMsgCordonedInvalidMode @v1.9.0-rc6` },
  ],
  [
    'create node cordoned (config:)',
    {
      v: 'v1.9.0',
      config: { c: true },
      want: [`${CORD} nodes[0].config.install.cordoned`],
      src: `${V19} ErrMsgCordonedInvalidMode @v1.9.0-rc6`,
    },
  ],
  ['create node cordoned: false', { v: 'v1.9.0', field: { c: false }, want: [], src: `${V19} (if cfg.Install.Cordoned) @v1.9.0-rc6` }],
  ['a joining node cordoned', { v: 'v1.9.0', field: { j: true }, want: [], src: `${V19} (join mode, default role) @v1.9.0-rc6` }],
  [
    'a release candidate is its release',
    { v: 'v1.9.0-rc6', field: { c: true }, want: [`${CORD} nodes[0].install.cordoned`], src: `${V19} @v1.9.0-rc6` },
  ],
  [
    'defaults: cordoned reaches the create node and the witness (reported once)',
    {
      v: 'v1.9.0',
      defaults: true,
      want: [`${CORD} defaults.install.cordoned`],
      src: `${V19} ErrMsgCordonedInvalidMode, ErrMsgCordonedInvalidRole @v1.9.0-rc6`,
    },
  ],
  [
    'defaults: cordoned undone on the create node and the witness',
    { v: 'v1.9.0', defaults: true, field: { c: false, w: false }, want: [], src: `${V19} @v1.9.0-rc6` },
  ],
];

/** Rule cordoned-witness: not for the witness role. */
const WITNESS_CASES: [string, Case][] = [
  [
    'witness cordoned (field)',
    { v: 'v1.9.0', field: { w: true }, want: [`${CORD} nodes[2].install.cordoned`], src: `${V19} ErrMsgCordonedInvalidRole @v1.9.0-rc6` },
  ],
  [
    'witness cordoned (config:)',
    {
      v: 'v1.9.0',
      config: { w: true },
      want: [`${CORD} nodes[2].config.install.cordoned`],
      src: `${V19} ErrMsgCordonedInvalidRole @v1.9.0-rc6`,
    },
  ],
  [
    'witness by config: install.role, cordoned (field)',
    {
      v: 'v1.9.0',
      field: { w: true },
      witnessByConfig: true,
      want: [`${CORD} nodes[2].install.cordoned`],
      src: `${V19} (cfg.Install.Role) @v1.9.0-rc6`,
    },
  ],
  ['witness cordoned: false', { v: 'v1.9.0', field: { w: false }, want: [], src: `${V19} (if cfg.Install.Cordoned) @v1.9.0-rc6` }],
  [
    'defaults: cordoned, the create node undone: the witness remains',
    {
      v: 'v1.9.0',
      defaults: true,
      field: { c: false },
      want: [`${CORD} defaults.install.cordoned`],
      src: `${V19} ErrMsgCordonedInvalidRole @v1.9.0-rc6`,
    },
  ],
];

/** Before v1.9.0: no `cordoned` at all; the setting is refused, not judged by the v1.9 rules. */
const GATE_CASES: [string, Case][] = [
  [
    'v1.8.1: a joining node cordoned is refused',
    { v: 'v1.8.1', field: { j: true }, want: [`${TOO_NEW} nodes[1].install.cordoned`], src: `${V18} @v1.8.1` },
  ],
  [
    'v1.8.1: the create node cordoned is refused as too new',
    { v: 'v1.8.1', field: { c: true }, want: [`${TOO_NEW} nodes[0].install.cordoned`], src: `${V18} @v1.8.1` },
  ],
  [
    'v1.8.2: refused too',
    { v: 'v1.8.2', field: { j: true }, want: [`${TOO_NEW} nodes[1].install.cordoned`], src: `${V18} @v1.8.1 (branch v1.8 at 2350d532)` },
  ],
  [
    'v1.8.1: false is refused too (a key v1.8 drops)',
    { v: 'v1.8.1', field: { j: false }, want: [`${TOO_NEW} nodes[1].install.cordoned`], src: `${V18} @v1.8.1` },
  ],
  [
    'v1.7.3: refused',
    { v: 'v1.7.3', defaults: true, want: [`${TOO_NEW} defaults.install.cordoned`], src: `${V18} @v1.7.2-rc3 (branch v1.7 at 565f4047)` },
  ],
];

/** Releases to the patch: published ones are known, v1.9.1 (no tag read) is not. */
const RELEASE_CASES: [string, Case][] = [
  ['v1.7.3 is a known release', { v: 'v1.7.3', want: [], src: 'harvester/harvester tag v1.7.3 (Release v1.7.3)' }],
  ['v1.8.2 is a known release', { v: 'v1.8.2', want: [], src: 'harvester/harvester tag v1.8.2 (Release v1.8.2)' }],
  [
    'v1.9.1 is not (yet) a release harvgen knows',
    {
      v: 'v1.9.1',
      want: ['HARVESTER_RELEASE_UNKNOWN:w harvester.version'],
      src: 'harvester/harvester tags: none v1.9.1 (newest v1.9.0-rc6)',
    },
  ],
];

for (const [table, cases] of [
  ['cordoned-create', CREATE_CASES],
  ['cordoned-witness', WITNESS_CASES],
  ['gate', GATE_CASES],
  ['release', RELEASE_CASES],
] as const) {
  for (const [name, c] of cases) {
    test(`${table}: ${name}`, async () => {
      assert.equal(await run(c), [...c.want].sort(), c.src);
    });
  }
}

test('mapperBool reads as rancher/mapper convert.ToBool does (Singular, then ToString of Singular again, trimmed, lower-cased)', () => {
  // convert.go: ToBool(v) = Singular(v) is a bool ? it : ToString(v) in {true, t, yes, y};
  // ToString(v) = TrimSpace(fmt.Sprint(Singular(v))).
  const cases: [unknown, boolean][] = [
    [true, true],
    [false, false],
    ['yes', true],
    [' Y ', true],
    ['T', true],
    ['on', false],
    [1, false],
    ['1', false],
    [[], false],
    [['yes'], true],
    [[['yes']], true],
    [[[true]], true],
    [[false, true], false],
    [{ a: 'yes' }, false],
    [null, false],
  ];
  for (const [v, want] of cases) assert.is(mapperBool(v), want, JSON.stringify(v));
});

test('every case names the installer source and tag that decide it; every rule has cases on both sides', () => {
  for (const [name, c] of [...CREATE_CASES, ...WITNESS_CASES, ...GATE_CASES, ...RELEASE_CASES]) {
    assert.match(c.src, /(@v\d|tag)/, `${name}: no tag in its source`);
  }
  for (const cases of [CREATE_CASES, WITNESS_CASES, GATE_CASES]) {
    assert.ok(cases.some(([, c]) => c.want.length > 0));
  }
  for (const cases of [CREATE_CASES, WITNESS_CASES]) assert.ok(cases.some(([, c]) => c.want.length === 0));
  const ids = INSTALLER_RULES.filter((r) => r.code === CORD).map((r) => `${r.id} ${r.releases} ${r.source}`);
  assert.equal(ids, [
    'cordoned-create >=1.9.0 harvester/harvester pkg/installer/console/validator.go commonCheck (ErrMsgCordonedInvalidMode) @v1.9.0-rc6',
    'cordoned-witness >=1.9.0 harvester/harvester pkg/installer/console/validator.go commonCheck (ErrMsgCordonedInvalidRole) @v1.9.0-rc6',
  ]);
});

test('the joining node cordoned: its v1.9.0 config carries install.cordoned: true, the others none', async () => {
  const r = await compileSite(site({ v: 'v1.9.0', field: { j: true }, want: [], src: '' }));
  const install = (host: string) => {
    const file = r.artifacts?.find((a) => a.path === `harvester/${host}.yaml`);
    assert.ok(file, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
    return (parse(file.contents as string) as { install: Doc }).install;
  };
  assert.is(install('j').cordoned, true);
  assert.is(install('c').cordoned, undefined);
  assert.is(install('w').cordoned, undefined);
});

test('config: install.cordoned on a v1.8.1 node fails the build against that release installer schema', async () => {
  const r = await compileSite(site({ v: 'v1.8.1', config: { j: true }, want: [], src: '' }));
  const found = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path}`);
  assert.equal(found, ['HARVESTER_CONFIG_INVALID nodes[1].config.install.cordoned']);
});

test("config: install.cordoned given as text or a number is read as the installer's mapper reads it: a warning saying so, and that boolean written", async () => {
  const cases: [unknown, boolean, RegExp][] = [
    ['no', false, /is "no", not true or false: the Harvester v1\.9\.0 installer reads it as false, and harvgen writes false/],
    ['yes', true, /is "yes", not true or false: the Harvester v1\.9\.0 installer reads it as true/],
    [
      'on',
      false,
      /is "on", not true or false: the Harvester v1\.9\.0 installer reads it as false \(only true, t, yes and y read as true\)/,
    ],
    [1, false, /is 1, not true or false: .* reads it as false \(only true, t, yes and y read as true\)/],
  ];
  for (const [value, read, message] of cases) {
    const r = await compileSite(site({ v: 'v1.9.0', config: { j: value }, want: [], src: '' }));
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors, [], `${String(value)}: ${JSON.stringify(errors)}`);
    const warned = r.diagnostics.filter((d) => d.code === 'INSTALLER_VALUE_READ_AS');
    assert.is(warned.length, 1, String(value));
    assert.match(warned[0]!.message, message);
    assert.is(warned[0]!.path, 'nodes[1].config.install.cordoned');
    const config = parse(r.artifacts!.find((a) => a.path === 'harvester/j.yaml')!.contents as string) as { install: Doc };
    assert.is(config.install.cordoned, read, String(value));
  }
  // Read as true on the create node, it is the installer's refusal.
  const create = await compileSite(site({ v: 'v1.9.0', config: { c: 'Y' }, want: [], src: '' }));
  assert.equal(
    create.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    [CORD],
  );
});

test('every known release says where its rules were read: repository, tag or commit, files', () => {
  for (const r of KNOWN_RELEASES) {
    assert.match(r.rulesFrom, /^harvester\/harvester(-installer)? /, r.version);
    assert.match(r.rulesFrom, /pkg\//, r.version);
  }
  const v19 = KNOWN_RELEASES.find((r) => r.version === 'v1.9.0');
  assert.match(v19?.rulesFrom ?? '', /v1\.9\.0-rc6.*pkg\/installer\/console/);
});

test.run();
