// Harvester upgrades from the repository (harvester.upgrade): which hops Harvester runs (its own
// version guard's outcomes, run on its code), the Version and Upgrade objects against Harvester's
// CRD schemas, what check refuses before anything runs, and what `done` changes.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { Ajv } from 'ajv';
import { check, compileSite } from '../src/index.ts';
import { hopRefusal, minUpgradable, MIN_UPGRADABLE } from '../src/harvester/upgrade-paths.ts';
import { KNOWN_RELEASES } from '../src/harvester/releases.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = join(import.meta.dirname, '..');
const CHECKSUM = 'ab'.repeat(64);

/**
 * Hops and what Harvester's version guard (harvester/go-common version/upgrade.go
 * `CheckUpgradeEligibility`, strict) answers for them with each target's minimum from its tag's
 * package/upgrade-matrix.yaml (docs/dev/research-upgrade.md §2b): a quick table. Every pair of
 * releases harvgen knows goes through the guard's own code in test/real/upgrade-guard.test.ts.
 */
const GUARD: readonly [from: string, to: string, outcome: 'allowed' | 'minimum' | 'downgrade' | 'prerelease'][] = [
  ['v1.8.2', 'v1.9.0', 'allowed'],
  ['v1.8.0', 'v1.9.0', 'allowed'],
  ['v1.9.0', 'v1.9.0', 'allowed'],
  ['v1.8.2', 'v1.9.0-rc6', 'allowed'],
  ['v1.9.0-rc5', 'v1.9.0-rc6', 'allowed'],
  ['v1.9.0-rc6', 'v1.9.0', 'allowed'],
  ['v1.7.0', 'v1.8.2', 'allowed'],
  ['v1.6.1', 'v1.7.3', 'allowed'],
  ['v1.4.2', 'v1.5.2', 'allowed'],
  ['v1.4.1', 'v1.4.3', 'allowed'],
  ['v1.7.3', 'v1.9.0', 'minimum'],
  ['v1.6.1', 'v1.8.2', 'minimum'],
  ['v1.5.2', 'v1.7.3', 'minimum'],
  ['v1.4.1', 'v1.5.2', 'minimum'],
  ['v1.4.0', 'v1.4.3', 'minimum'],
  ['v1.9.0', 'v1.8.2', 'downgrade'],
  ['v1.9.0', 'v1.9.0-rc6', 'downgrade'],
  ['v1.9.0-rc6', 'v1.9.1', 'prerelease'],
];

test("the hops harvgen accepts are the ones Harvester's version guard runs, for every case run on its code", () => {
  for (const [from, to, outcome] of GUARD) {
    // v1.9.1 is no release harvgen knows: the guard had no minimum for it either (empty: none).
    const got = hopRefusal(from, to, minUpgradable(to));
    const kind =
      got === undefined
        ? 'allowed'
        : /minimum/.test(got)
          ? 'minimum'
          : /downgrad/.test(got)
            ? 'downgrade'
            : /prerelease/.test(got)
              ? 'prerelease'
              : got;
    assert.is(kind, outcome, `${from} -> ${to}: ${got ?? 'allowed'}`);
  }
});

test('every release harvgen knows from v1.4.0 has its minimum upgradable release, and each minimum is a release harvgen knows', () => {
  const known = KNOWN_RELEASES.map((r) => r.version);
  for (const v of known.filter((x) => !/^v1\.[23]\./.test(x))) assert.ok(MIN_UPGRADABLE[v] !== undefined, `no minimum for ${v}`);
  for (const [target, min] of Object.entries(MIN_UPGRADABLE)) {
    assert.ok(known.includes(min), `${target}: minimum ${min} is not a known release`);
    assert.is(hopRefusal(min, target, min), undefined, `${min} -> ${target}`);
  }
});

function site(input: Record<string, unknown>): string {
  const dir = join(tempDir('upgrade'), 's');
  mkdirSync(dir);
  writeFileSync(join(dir, 'site.yaml'), stringify(input));
  return dir;
}

function input(change: (s: Record<string, any>) => void = () => {}): Record<string, any> {
  const s: Record<string, any> = {
    site: 'up',
    harvester: {
      version: 'v1.8.2',
      artifacts: 'http://10.50.0.5/artifacts/v1.8.2',
      upgrade: { to: 'v1.9.0', iso_checksum: CHECKSUM, apply: true },
    },
    boot: { server: 'http://10.50.0.5' },
    network: { cidr: '10.50.0.0/24', gateway: '10.50.0.1', dns: ['10.50.0.53'], dhcp_range: '10.50.0.100-10.50.0.199' },
    cluster: { vip: '10.50.0.10', token: 'tok.123', password: 'pw.123' },
    defaults: { install: { device: '/dev/vda' } },
    nodes: [
      { hostname: 'u1', role: 'create', mac: '52:54:00:50:00:01', ip: '10.50.0.11' },
      { hostname: 'u2', mac: '52:54:00:50:00:02', ip: '10.50.0.12' },
    ],
  };
  change(s);
  return s;
}

async function files(i: Record<string, unknown>): Promise<Map<string, string>> {
  const r = await compileSite(site(i));
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  return new Map((r.artifacts ?? []).map((a) => [a.path, String(a.contents)]));
}

async function findings(i: Record<string, unknown>): Promise<string[]> {
  const r = await check({ sites: [site(i)] });
  return r.diagnostics.filter((d) => d.code !== 'SECRET_INLINE').map((d) => `${d.severity} ${d.code} ${d.path ?? ''}`);
}

/**
 * A CRD's structural schema as the API server applies it: unknown fields are pruned silently,
 * so every object (but `metadata`, which has its own schema) admits only the fields it lists.
 */
function pruningSchema(file: string): Record<string, unknown> {
  const crd = JSON.parse(readFileSync(join(repo, 'test/fixtures/crd', file), 'utf8')) as { openAPIV3Schema: Record<string, unknown> };
  const close = (s: any, key?: string): any => {
    if (Array.isArray(s)) return s.map((x) => close(x));
    if (!s || typeof s !== 'object') return s;
    const out: any = Object.fromEntries(
      Object.entries(s).map(([k, v]) => [
        k,
        k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, x]) => [p, close(x, p)])) : close(v),
      ]),
    );
    if (out.type === 'object' && out.properties && key !== 'metadata' && !out['x-kubernetes-preserve-unknown-fields'])
      out.additionalProperties = false;
    return out;
  };
  return close(crd.openAPIV3Schema);
}

const ajv = new Ajv({ strict: false, allErrors: true });
const validate = (file: string, doc: unknown): string[] => {
  const v = ajv.compile(pruningSchema(file));
  return v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
};

test("the Version and Upgrade objects validate against Harvester's CRD schemas (nothing pruned), and a misspelled or missing field does not", async () => {
  const f = await files(input((s) => (s.harvester.upgrade.release_date = '20260915')));
  const version = parse(f.get('upgrade/version.yaml')!);
  const upgrade = parse(f.get('upgrade/upgrade.yaml')!);
  assert.equal(validate('versions-v1.9.0-rc6.json', version), []);
  assert.equal(validate('upgrades-v1.9.0-rc6.json', upgrade), []);
  assert.equal(validate('upgrades-v1.6.1.json', upgrade), []);
  assert.is(version.spec.isoURL, 'http://10.50.0.5/artifacts/v1.9.0/harvester-v1.9.0-amd64.iso');
  assert.is(version.spec.isoChecksum, CHECKSUM);
  assert.is(version.spec.releaseDate, '20260915');
  assert.is(version.spec.minUpgradableVersion, 'v1.8.0');
  assert.is(upgrade.spec.version, version.metadata.name);
  // Mutations the schema check must catch.
  const misspelled = { ...version, spec: { ...version.spec, isoUrl: version.spec.isoURL } };
  delete misspelled.spec.isoURL;
  assert.ok(validate('versions-v1.9.0-rc6.json', misspelled).length >= 2, 'a misspelled isoURL passed');
  assert.ok(validate('upgrades-v1.9.0-rc6.json', { ...upgrade, spec: { ...upgrade.spec, logEnabled: 'yes' } }).length > 0);
});

test('apply.sh run against a stub kubectl: it stops on another cluster, a cordoned, unready or unknown node and a failing kubectl; it applies the Version and creates the Upgrade once', async () => {
  const script = (await files(input())).get('upgrade/apply.sh')!;
  const dir = tempDir('apply-run');
  mkdirSync(join(dir, 'upgrade'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'upgrade/apply.sh'), script);
  const log = join(dir, 'calls.log');
  // The cluster as kubectl answers it, from the environment; every call is logged.
  writeFileSync(
    join(dir, 'bin/kubectl'),
    [
      '#!/bin/sh',
      `echo "$*" >> ${JSON.stringify(log)}`,
      'case "$*" in',
      '  "get settings.harvesterhci.io server-version "*) printf %s "$STUB_RUNNING" ;;',
      '  *unschedulable*) [ "$STUB_FAIL" = nodes ] && exit 1; printf %s "$STUB_CORDONED" ;;',
      '  *Ready*) printf %s "$STUB_READY" ;;',
      '  "apply -f "*|"create -f "*) ;;',
      '  *" get upgrades.harvesterhci.io harvgen-v1-9-0") [ -n "$STUB_UPGRADE" ] ;;',
      '  *) echo "unexpected: $*" >&2; exit 9 ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const run = (env: Record<string, string | undefined>) => {
    writeFileSync(log, '');
    const r = spawnSync('sh', [join(dir, 'upgrade/apply.sh')], {
      encoding: 'utf8',
      env: {
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        KUBECONFIG: '/etc/kube/site.kubeconfig',
        STUB_RUNNING: 'v1.8.2',
        STUB_CORDONED: '',
        STUB_READY: 'u1=True u2=True ',
        STUB_UPGRADE: '',
        STUB_FAIL: '',
        ...env,
      },
    });
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const did = (verb: string) => calls.some((c) => c.startsWith(`${verb} -f `));
    return { code: r.status, err: r.stderr, out: r.stdout, applied: did('apply'), created: did('create'), calls };
  };
  const ok = run({});
  assert.is(ok.code, 0, ok.err);
  assert.ok(ok.applied && ok.created, ok.calls.join('\n'));
  assert.ok(
    ok.calls.findIndex((c) => c.startsWith('apply')) < ok.calls.findIndex((c) => c.startsWith('create')),
    'the Version before the Upgrade',
  );
  assert.not.ok(`${ok.out}${ok.err}`.includes('/etc/kube/site.kubeconfig'), 'the kubeconfig path is printed');
  // Run again while the Upgrade exists: the Version again, no second Upgrade.
  const again = run({ STUB_UPGRADE: 'yes' });
  assert.is(again.code, 0, again.err);
  assert.ok(again.applied);
  assert.not.ok(again.created);
  assert.match(again.out, /exists already/);
  // Each refusal stops before anything is applied.
  const refused: [string, Record<string, string | undefined>, RegExp][] = [
    ['another cluster', { STUB_RUNNING: 'v1.7.3' }, /the cluster runs v1\.7\.3, the inventory says v1\.8\.2/],
    ['already upgraded', { STUB_RUNNING: 'v1.9.0' }, /runs v1\.9\.0 already/],
    ['no server-version', { STUB_RUNNING: '' }, /an unknown release/],
    ['a cordoned node', { STUB_CORDONED: 'u2 ' }, /cordoned nodes: u2; uncordon/],
    ['a node not Ready', { STUB_READY: 'u1=True u2=False ' }, /nodes not Ready: u2=False/],
    ['a node without a Ready condition', { STUB_READY: 'u1=True u2= ' }, /nodes not Ready: u2=/],
    ['kubectl failing', { STUB_FAIL: 'nodes' }, /^/],
    ['no KUBECONFIG', { KUBECONFIG: undefined }, /set KUBECONFIG/],
    // What the cluster says is printed as it is: dash's echo would make `\033[2J` a terminal escape and stop at `\c`.
    [
      'backslashes from the cluster',
      { STUB_RUNNING: 'v1.7\\033[2J\\cend' },
      /the cluster runs v1\.7\\033\[2J\\cend, the inventory says v1\.8\.2/,
    ],
    ['backslashes in a node name', { STUB_CORDONED: 'u\\e[31m ' }, /cordoned nodes: u\\e\[31m; uncordon/],
  ];
  for (const [what, env, message] of refused) {
    const r = run(env);
    assert.is.not(r.code, 0, `${what}: it went on`);
    assert.match(r.err, message, what);
    assert.not.ok(r.applied || r.created, `${what}: applied`);
  }
});

test('apply.sh prints what the cluster says with no control byte: ESC sequences, CR, BEL, DEL, NUL and non-ASCII bytes show as ?, under dash and bash', async () => {
  const script = (await files(input())).get('upgrade/apply.sh')!;
  const dir = tempDir('apply-controls');
  mkdirSync(join(dir, 'upgrade'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'upgrade/apply.sh'), script);
  // A hostile cluster: kubectl prints what the environment gives, its escapes made bytes by printf.
  writeFileSync(
    join(dir, 'bin/kubectl'),
    [
      '#!/bin/sh',
      'case "$*" in',
      '  "get settings.harvesterhci.io server-version "*) printf "$STUB_RUNNING" ;;',
      '  *unschedulable*) printf "$STUB_CORDONED" ;;',
      '  *Ready*) printf "$STUB_READY" ;;',
      '  "apply -f "*) printf "$STUB_APPLY" >&2; exit 1 ;;',
      '  *) exit 0 ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  // ESC sequences (clear screen, set the window title, colours), CR (overwrite the line), BEL, DEL, NUL, a C1 CSI byte, a line break.
  const hostile = '\\033[2J\\033]0;owned\\007\\r\\033[31mX\\177\\000\\233Y\\nZ';
  // Shown: ?[2J?]0;owned???[31mX?(?)?Y then the line break as ? (kept by kubectl's messages); a NUL never reaches a shell variable.
  const seen = String.raw`\?\[2J\?\]0;owned\?\?\?\[31mX\?\??\?Y`;
  const cases: [string, Record<string, string>, RegExp][] = [
    ['the running release', { STUB_RUNNING: `v1.7${hostile}` }, new RegExp(`the cluster runs v1\\.7${seen}\\?Z, the inventory says`)],
    ['a cordoned node', { STUB_CORDONED: `u${hostile} ` }, new RegExp(`cordoned nodes: u${seen}\\?Z; uncordon`)],
    ['a node not Ready', { STUB_READY: `u1=True u${hostile}=False ` }, new RegExp(`nodes not Ready: u${seen} Z=False\n`)],
    [
      "kubectl's own error",
      { STUB_APPLY: `error: admission webhook denied: ${hostile}\\n` },
      new RegExp(`error: admission webhook denied: ${seen}\nZ\n$`),
    ],
  ];
  const shells = ['dash', 'bash'].filter((sh) => spawnSync(sh, ['-c', 'true']).status === 0);
  if (process.env.HARVGEN_REQUIRE_REAL) assert.equal(shells, ['dash', 'bash']);
  assert.ok(shells.length > 0);
  for (const shell of shells)
    for (const [what, env, shown] of cases) {
      const r = spawnSync(shell, [join(dir, 'upgrade/apply.sh')], {
        env: {
          PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
          KUBECONFIG: '/dev/null',
          // A UTF-8 locale, where a byte past ASCII is no character: grep and sed must still pass it on.
          LC_ALL: 'C.UTF-8',
          STUB_RUNNING: 'v1.8.2',
          STUB_CORDONED: '',
          STUB_READY: 'u1=True ',
          STUB_APPLY: '',
          ...env,
        },
      });
      const out = Buffer.concat([r.stdout, r.stderr]);
      assert.is.not(r.status, 0, `${shell}, ${what}: it went on`);
      // No byte but printable ASCII and the line break.
      const bad = [...out].filter((b) => (b < 0x20 && b !== 0x0a) || b >= 0x7f);
      assert.equal(bad, [], `${shell}, ${what}: ${JSON.stringify(out.toString('latin1'))}`);
      assert.match(r.stderr.toString('latin1'), shown, `${shell}, ${what}`);
    }
});

test('the apply script reads the kubeconfig from KUBECONFIG, refuses cordoned or unready nodes, and is valid sh', async () => {
  const f = await files(input());
  const script = f.get('upgrade/apply.sh')!;
  assert.match(script, /KUBECONFIG:\?/);
  assert.match(script, /spec\.unschedulable==true/);
  assert.match(script, /\nkube apply -f "\$here\/version\.yaml"/);
  assert.match(script, /\n {2}kube create -f "\$here\/upgrade\.yaml"/);
  const dir = tempDir('apply');
  writeFileSync(join(dir, 'apply.sh'), script);
  const r = spawnSync('sh', ['-n', join(dir, 'apply.sh')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  // bash reads it the same (an apostrophe in a parameter expansion's word split it once).
  const b = spawnSync('bash', ['-n', join(dir, 'apply.sh')], { encoding: 'utf8' });
  assert.is(b.status, 0, b.stderr);
  if (spawnSync('shellcheck', ['--version']).status === 0) {
    const sc = spawnSync('shellcheck', ['--shell=sh', join(dir, 'apply.sh')], { encoding: 'utf8' });
    assert.is(sc.status, 0, sc.stdout);
  } else if (process.env.HARVGEN_REQUIRE_REAL) assert.unreachable('shellcheck is missing');
  else console.warn('SKIPPED: shellcheck of apply.sh (shellcheck is not installed)');
  // Without apply: the Version alone.
  const plain = await files(input((s) => delete s.harvester.upgrade.apply));
  assert.ok(plain.has('upgrade/version.yaml'));
  assert.not.ok(plain.has('upgrade/upgrade.yaml') || plain.has('upgrade/apply.sh'));
});

test("the target's release files are served and fetched beside the installed one's; the nodes install the installed release", async () => {
  const f = await files(input());
  const nginx = f.get('nginx/harvgen.conf')!;
  assert.match(nginx, /location = \/artifacts\/v1\.9\.0\/harvester-v1\.9\.0-amd64\.iso \{/);
  assert.match(nginx, /location = \/artifacts\/v1\.8\.2\/harvester-v1\.8\.2-amd64\.iso \{/);
  assert.match(f.get('artifacts/fetch.sh')!, /^fetch v1\.9\.0 /m);
  assert.match(f.get('ipxe/52-54-00-50-00-02.ipxe')!, /harvester-v1\.8\.2-vmlinuz-amd64/);
  assert.match(f.get('harvester/u2.yaml')!, /harvester-v1\.8\.2-amd64\.iso/);
});

test('done: the nodes install and join with the target, and no upgrade objects are written', async () => {
  const f = await files(input((s) => (s.harvester.upgrade.done = true)));
  assert.not.ok([...f.keys()].some((p) => p.startsWith('upgrade/')));
  assert.match(f.get('ipxe/52-54-00-50-00-02.ipxe')!, /http:\/\/10\.50\.0\.5\/artifacts\/v1\.9\.0\/harvester-v1\.9\.0-vmlinuz-amd64/);
  assert.match(f.get('harvester/u2.yaml')!, /iso_url: http:\/\/10\.50\.0\.5\/artifacts\/v1\.9\.0\/harvester-v1\.9\.0-amd64\.iso/);
  assert.match(f.get('harvester/u2.yaml')!, /^# Harvester v1\.9\.0 config/m);
  assert.not.match(f.get('artifacts/fetch.sh')!, /^fetch v1\.8\.2 /m);
  // explain says where the node's release comes from: the upgrade's target.
  const { explain } = await import('../src/index.ts');
  const r = await explain({ site: site(input((s) => (s.harvester.upgrade.done = true))), node: 'u2' });
  const v = r.explanation!.values.find((x) => x.key === 'harvester_version')!;
  assert.is(v.value, 'v1.9.0');
  assert.is((v.source as { path: string }).path, 'harvester.upgrade.to');
  // and why: the upgrade from the release before, recorded done; before that, a planned one.
  const why = r.explanation!.values.find((x) => x.key === 'harvester_upgrade')!;
  assert.is(why.value, 'upgraded from v1.8.2 to v1.9.0 (done: nodes install the target)');
  assert.is((why.source as { path: string }).path, 'harvester.upgrade.done');
  const planned = await explain({ site: site(input()), node: 'u2' });
  assert.is(planned.explanation!.values.find((x) => x.key === 'harvester_version')!.value, 'v1.8.2');
  assert.match(
    String(planned.explanation!.values.find((x) => x.key === 'harvester_upgrade')!.value),
    /^planned from v1\.8\.2 to v1\.9\.0 \(not done/,
  );
  // The same tree as writing the target as the version, without `upgrade:` (docs/upgrade.md).
  const rewritten = await files(
    input((s) => {
      s.harvester = { version: 'v1.9.0', artifacts: 'http://10.50.0.5/artifacts/v1.9.0' };
    }),
  );
  assert.equal([...rewritten.keys()].sort(), [...f.keys()].sort());
  for (const [path, text] of f) if (path !== 'manifest.json') assert.is(rewritten.get(path), text, path);
});

test('check refuses a hop Harvester refuses, a cordoned node, a node pinned to another release and a malformed checksum; an unknown target is a warning', async () => {
  assert.equal(await findings(input()), []);
  assert.equal(
    await findings(
      input((s) => {
        s.harvester.version = 'v1.7.3';
        s.harvester.artifacts = 'http://10.50.0.5/artifacts/v1.7.3';
      }),
    ),
    ['error UPGRADE_HOP_UNSUPPORTED harvester.upgrade.to'],
  );
  assert.equal(await findings(input((s) => (s.harvester.upgrade.to = 'v1.8.1'))), ['error UPGRADE_HOP_UNSUPPORTED harvester.upgrade.to']);
  assert.equal(
    await findings(
      input((s) => {
        s.harvester.version = 'v1.9.0';
        s.harvester.artifacts = 'http://10.50.0.5/artifacts/v1.9.0';
        s.nodes[1].install = { cordoned: true };
      }),
    ).then((x) => x.filter((d) => d.includes('UPGRADE'))),
    ['error UPGRADE_TARGET_INSTALLED harvester.upgrade.to', 'error UPGRADE_NODE_CORDONED nodes[1].install.cordoned'],
  );
  // The target is the release the cluster runs: refused until recorded done.
  const same = (done: boolean) =>
    findings(
      input((s) => {
        s.harvester.version = 'v1.9.0';
        s.harvester.artifacts = 'http://10.50.0.5/artifacts/v1.9.0';
        if (done) s.harvester.upgrade.done = true;
      }),
    );
  assert.equal(await same(false), ['error UPGRADE_TARGET_INSTALLED harvester.upgrade.to']);
  assert.equal(await same(true), []);
  assert.equal(await findings(input((s) => (s.nodes[1].harvester_version = 'v1.8.2'))), [
    'error UPGRADE_NODE_RELEASE_PINNED nodes[1].harvester_version',
  ]);
  const upper = await findings(input((s) => (s.harvester.upgrade.iso_checksum = CHECKSUM.toUpperCase())));
  assert.ok(
    upper.some((d) => d.startsWith('error SCHEMA_PATTERN harvester.upgrade.iso_checksum')),
    upper.join('\n'),
  );
  assert.equal(await findings(input((s) => (s.harvester.upgrade.to = 'v1.9.1'))), ['warning UPGRADE_TARGET_UNKNOWN harvester.upgrade.to']);
});

/** A mirror with both releases' files (small stand-ins) and their SHA-512 lists, as Harvester publishes them. */
function mirror(): { dir: string; isoSha: string } {
  const dir = tempDir('mirror');
  let isoSha = '';
  for (const v of ['v1.8.2', 'v1.9.0']) {
    mkdirSync(join(dir, v));
    const names = [
      `harvester-${v}-vmlinuz-amd64`,
      `harvester-${v}-initrd-amd64`,
      `harvester-${v}-rootfs-amd64.squashfs`,
      `harvester-${v}-amd64.iso`,
    ];
    const lines: string[] = [];
    for (const n of names) {
      const body = `${n} stand-in\n`;
      writeFileSync(join(dir, v, n), body);
      const sha = createHash('sha512').update(body).digest('hex');
      if (v === 'v1.9.0' && n.endsWith('.iso')) isoSha = sha;
      lines.push(`${sha}  ${n}`);
    }
    writeFileSync(join(dir, v, `harvester-${v}-amd64.sha512`), `${lines.join('\n')}\n`);
  }
  return { dir, isoSha };
}

test("fetch.sh refuses a target ISO other than the one the upgrade pins (run against a mirror), and publish's release reader does too", async () => {
  const m = mirror();
  const run = async (pin: string) => {
    const f = await files(input((s) => (s.harvester.upgrade.iso_checksum = pin)));
    const dir = tempDir('fetch');
    writeFileSync(join(dir, 'fetch.sh'), f.get('artifacts/fetch.sh')!);
    const r = spawnSync('sh', [join(dir, 'fetch.sh'), join(dir, 'target')], {
      encoding: 'utf8',
      env: { ...process.env, HARVGEN_RELEASE_BASE: `file://${m.dir}` },
    });
    return { ...r, target: join(dir, 'target') };
  };
  if (spawnSync('curl', ['--version']).status !== 0) {
    if (process.env.HARVGEN_REQUIRE_REAL) assert.unreachable('curl is missing');
    console.warn('SKIPPED: fetch.sh against a mirror needs curl');
  } else {
    const ok = await run(m.isoSha);
    assert.is(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /harvester-v1\.9\.0-amd64\.iso is the ISO the upgrade pins/);
    const bad = await run(CHECKSUM);
    assert.is.not(bad.status, 0, 'fetch.sh took an ISO the upgrade does not pin');
    assert.match(bad.stderr, /harvester\.upgrade\.iso_checksum says abab/);
    // Refused from the list alone: no file of the target release was downloaded (an ISO is gigabytes).
    assert.equal(
      readdirSync(bad.target).filter((n) => n.startsWith('harvester-v1.9.0') && !n.endsWith('.sha512')),
      [],
    );
  }
  const { resolveSite } = await import('../src/model/index.ts');
  const { releaseParts } = await import('../src/publish/releases.ts');
  const model = (pin: string) => resolveSite(input((s) => (s.harvester.upgrade.iso_checksum = pin)) as never).model!;
  const good = await releaseParts(model(m.isoSha), m.dir, new Map());
  assert.equal(good.problems, []);
  assert.equal(
    good.provenance.map((p) => p.version),
    ['v1.8.2', 'v1.9.0'],
  );
  const wrong = await releaseParts(model(CHECKSUM), m.dir, new Map());
  assert.is(wrong.problems.length, 1);
  assert.match(
    wrong.problems[0]!.message,
    /harvester-v1\.9\.0-amd64\.iso has SHA-512 [0-9a-f]{128} in harvester-v1\.9\.0-amd64\.sha512; harvester\.upgrade\.iso_checksum says abab/,
  );
  // Its hint is the fix of a pin mismatch, not the generic "fill the mirror".
  assert.match(wrong.problems[0]!.hint ?? '', /correct harvester\.upgrade\.iso_checksum/);
});

test('review: the Upgrade name is a DNS label, the ISO follows the cluster arch and its VLAN, done keeps the release checks, an iso_url without the version is refused', async () => {
  const f = await files(input());
  assert.is(parse(f.get('upgrade/upgrade.yaml')!).metadata.name, 'harvgen-v1-9-0');
  assert.match(f.get('upgrade/apply.sh')!, /get upgrades\.harvesterhci\.io harvgen-v1-9-0 /);
  assert.not.match(
    f
      .get('upgrade/apply.sh')!
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n'),
    /cluster's/,
  );
  // arm64: the arm64 ISO, and fetch.sh pins only that release's list.
  const arm = await files(input((s) => (s.defaults.arch = 'arm64')));
  assert.match(parse(arm.get('upgrade/version.yaml')!).spec.isoURL, /harvester-v1\.9\.0-arm64\.iso$/);
  assert.match(arm.get('artifacts/fetch.sh')!, /^pinned "\$target" harvester-v1\.9\.0-arm64\.sha512 harvester-v1\.9\.0-arm64\.iso /m);
  const mixed = await files(
    input((s) => {
      s.nodes[1].arch = 'arm64';
      s.nodes[1].harvester_version = 'v1.9.0';
    }),
  );
  // One release pinned: before its files are downloaded (from its list) and after.
  assert.equal(mixed.get('artifacts/fetch.sh')!.match(/^pinned .*$/gm), [
    `pinned "$target" harvester-v1.9.0-amd64.sha512 harvester-v1.9.0-amd64.iso ${CHECKSUM}`,
    `pinned "$target" harvester-v1.9.0-amd64.sha512 harvester-v1.9.0-amd64.iso ${CHECKSUM}`,
  ]);
  // On a VLAN scope: the ISO at the server's address on the create node's VLAN.
  const onVlan100 = (s: Record<string, any>) => {
    s.network.vlans = [{ id: 100, cidr: '10.100.0.0/24', gateway: '10.100.0.1', server: '10.100.0.5', interface: 'eth0.100' }];
    s.defaults.vlan = 100;
    s.defaults.interfaces = [{ name: 'eno1' }];
    s.cluster.vip = '10.100.0.10';
    s.nodes[0].ip = '10.100.0.11';
    s.nodes[1].ip = '10.100.0.12';
  };
  const vlan = await files(input(onVlan100));
  assert.is(parse(vlan.get('upgrade/version.yaml')!).spec.isoURL, 'http://10.100.0.5/artifacts/v1.9.0/harvester-v1.9.0-amd64.iso');
  // The cluster that is upgraded exists (cluster.created: every node joins): still its VLAN.
  const created = await files(
    input((s) => {
      onVlan100(s);
      s.cluster.created = true;
      delete s.nodes[0].role;
    }),
  );
  assert.is(parse(created.get('upgrade/version.yaml')!).spec.isoURL, 'http://10.100.0.5/artifacts/v1.9.0/harvester-v1.9.0-amd64.iso');
  // done: the release checks judge the target; a pinned node is still refused.
  const done = (change: (s: Record<string, any>) => void) =>
    findings(
      input((s) => {
        s.harvester.upgrade.done = true;
        change(s);
      }),
    );
  const unknownDone = await done((s) => (s.harvester.upgrade.to = 'v1.10.0'));
  assert.ok(unknownDone.includes('error HARVESTER_VERSION_UNSUPPORTED harvester.upgrade.to'), unknownDone.join('\n'));
  assert.ok(!unknownDone.some((d) => d.includes('INTERNAL')), unknownDone.join('\n'));
  assert.equal(await done((s) => (s.nodes[1].harvester_version = 'v1.8.2')), [
    'error UPGRADE_NODE_RELEASE_PINNED nodes[1].harvester_version',
  ]);
  assert.equal(await done((s) => (s.harvester.upgrade.to = 'v1.7.0')).then((x) => x.filter((d) => d.includes('UPGRADE'))), [
    'error UPGRADE_HOP_UNSUPPORTED harvester.upgrade.to',
  ]);
  // The release is found as a whole word: v1.8.2 is not in .../v1.8.20 (which would become v1.9.00).
  assert.equal(await findings(input((s) => (s.harvester.artifacts = 'http://10.50.0.5/artifacts/v1.8.20'))), [
    'error HARVESTER_ARTIFACTS_NO_VERSION harvester.artifacts',
  ]);
  const { swapVersion } = await import('../src/harvester/versions.ts');
  assert.is(swapVersion('http://m/v1.8.2/harvester-v1.8.2-amd64.iso', 'v1.8.2', 'v1.9.0'), 'http://m/v1.9.0/harvester-v1.9.0-amd64.iso');
  assert.is(swapVersion('http://m/v1.8.20/x', 'v1.8.2', 'v1.9.0'), 'http://m/v1.8.20/x');
  assert.is(swapVersion('http://m/harvester/v1.8.2', 'v1.8.2', 'v1.9.0'), 'http://m/harvester/v1.9.0');
  // An iso_url elsewhere is the installer's: the Version names the pinned ISO of the release files.
  const elsewhere = await files(input((s) => (s.harvester.iso_url = 'http://10.50.0.77/iso/v1.8.2/harvester-v1.8.2-amd64.iso')));
  assert.is(parse(elsewhere.get('upgrade/version.yaml')!).spec.isoURL, 'http://10.50.0.5/artifacts/v1.9.0/harvester-v1.9.0-amd64.iso');
  // An iso_url that does not name the release: the target's ISO cannot be told apart.
  assert.equal(await findings(input((s) => (s.harvester.iso_url = 'http://10.50.0.5/iso/harvester.iso'))), [
    'error HARVESTER_ARTIFACTS_NO_VERSION harvester.iso_url',
  ]);
});

test('a downgrade is refused with a hint that says so, not one to upgrade in hops', async () => {
  const r = await check({ sites: [site(input((s) => (s.harvester.upgrade.to = 'v1.8.1')))] });
  const d = r.diagnostics.find((x) => x.code === 'UPGRADE_HOP_UNSUPPORTED');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.match(d!.message, 'downgrading is prohibited');
  assert.not.match(d!.hint ?? '', 'hops');
  assert.match(d!.hint ?? '', 'never goes back to an older release');
  // A hop below the target's minimum still says to upgrade in hops.
  const low = await check({
    sites: [site(input((s) => ((s.harvester.version = 'v1.7.3'), (s.harvester.artifacts = 'http://10.50.0.5/artifacts/v1.7.3'))))],
  });
  assert.match(low.diagnostics.find((x) => x.code === 'UPGRADE_HOP_UNSUPPORTED')?.hint ?? '', 'Upgrade in hops');
});

test.run();
