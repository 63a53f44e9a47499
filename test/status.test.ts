// `harvgen status` (src/status/): synthetic nginx logs, one node per verdict, read through the
// library and the CLI; forged events, refused files, unknown MACs with their reports, gzipped
// and rotated logs, --since, an unreadable log. The log of a real nginx serving QEMU boots is
// read in test/real/boot.test.ts.
import { gzipSync } from 'node:zlib';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { discover } from '../src/status/discover.ts';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status, parseSince, type NodeStatus } from '../src/status/index.ts';
import { compileSite } from '../src/index.ts';
import { parseLine } from '../src/status/log.ts';
import { minimalSiteHead } from './helpers/example.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

const NODES = [
  ['never', 1, 'local'],
  ['boot', 2, 'install'],
  ['disk', 3, 'local'],
  ['inst', 4, 'install'],
  ['done', 5, 'install'],
  ['fail', 6, 'install'],
  ['loop', 7, 'install'],
] as const;

function site(): string {
  const dir = join(tempDir('status'), 'st');
  mkdirSync(dir, { recursive: true });
  const nodes = NODES.map(
    ([h, i, state]) =>
      `  - hostname: ${h}\n    mac: 52:54:00:00:00:0${i}\n    ip: 10.0.0.${10 + i}\n    state: ${state}\n    role: ${i === 1 ? 'create' : 'join'}\n`,
  ).join('');
  writeFileSync(
    join(dir, 'site.yaml'),
    `${minimalSiteHead('st')}  vip: 10.0.0.5\n  token: { env: HARVGEN_TOKEN }\n  password: { env: HARVGEN_PASSWORD }\ndefaults:\n  install:\n    device: /dev/disk/by-path/pci-0000:00:04.0\nnodes:\n${nodes}`,
  );
  return dir;
}

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
function line(ip: string, minutes: number, path: string, code: number): string {
  const d = new Date(T0 + minutes * 60_000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p2 = (n: number) => String(n).padStart(2, '0');
  const t = `${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${ip} - - [${t}] "GET ${path} HTTP/1.1" ${code} 512 "-" "iPXE/1.21.1+"`;
}
const ART = '/artifacts/harvester-v1.5.1';
const ev = (h: string, e: string, i: number) => `/harvgen-events/${h}/${e}?mac=52:54:00:00:00:0${i}&ip=10.0.0.${10 + i}`;
function install(h: string, i: number, at: number, events: string[]): string[] {
  const ip = `10.0.0.${10 + i}`;
  return [
    line(ip, at, `/ipxe/52-54-00-00-00-0${i}.ipxe`, 200),
    line(ip, at + 1, `${ART}-vmlinuz-amd64`, 200),
    line(ip, at + 1, `${ART}-initrd-amd64`, 200),
    line(ip, at + 2, `${ART}-rootfs-amd64.squashfs`, 200),
    line(ip, at + 3, `/harvester/${h}.yaml`, 200),
    ...events.map((e, k) => line(ip, at + 4 + k * 10, ev(h, e, i), 204)),
  ];
}

function logs(): string[] {
  return [
    line('10.0.0.12', 5, '/ipxe/52-54-00-00-00-02.ipxe', 200),
    line('10.0.0.13', 6, '/ipxe/52-54-00-00-00-03.ipxe', 200),
    ...install('inst', 4, 10, ['STARTED']),
    // A forged SUCCEEDED for inst, from an address that is no node's.
    line('10.0.0.99', 40, ev('inst', 'SUCCEEDED', 4), 204),
    ...install('done', 5, 10, ['STARTED', 'SUCCEEDED']),
    ...install('fail', 6, 10, ['STARTED', 'FAILED']),
    ...install('loop', 7, 10, ['STARTED', 'SUCCEEDED']),
    ...install('loop', 7, 30, ['STARTED']),
    // boot's config refused: it booted from an address that is not its own.
    line('10.0.0.150', 7, '/harvester/boot.yaml', 403),
    // An unknown MAC: its script is 404, then unknown.ipxe reports it.
    line('10.0.0.160', 8, '/ipxe/52-54-00-ff-00-01.ipxe', 404),
    line('10.0.0.160', 8, '/unknown.ipxe', 200),
    line(
      '10.0.0.160',
      8,
      '/harvgen-discover?mac=52-54-00-ff-00-01&ip=10.0.0.160&uuid=4c4c4544-0042-3510-8051-b2c04f4e3732&serial=SN%20123&manufacturer=Dell%20Inc.&product=PowerEdge%20R650&platform=efi',
      204,
    ),
    'not a log line at all',
  ];
}

function byHost(nodes: readonly NodeStatus[]): Record<string, NodeStatus> {
  return Object.fromEntries(nodes.map((n) => [n.hostname, n]));
}

test('parseLine reads the combined format with its time zone, query and status', () => {
  const r = parseLine('10.0.0.1 - - [23/Nov/2026:11:00:00 +0100] "GET /a%20b?x=1&y=%2F HTTP/1.1" 204 0 "-" "-"', 'f:1')!;
  assert.equal({ ...r }, { ip: '10.0.0.1', time: T0, method: 'GET', path: '/a b', query: { x: '1', y: '/' }, status: 204, from: 'f:1' });
  assert.is(parseLine('garbage', 'f:2'), undefined);
  assert.is(parseSince('2h', T0), T0 - 7_200_000);
  assert.is(parseSince('2026-11-23T10:00:00Z', 0), T0);
  assert.is(parseSince('yesterday', 0), undefined);
});

test('one verdict per node: never-booted, booting, local, installing, installed, failed, loop', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  const r = await status({ sites: [dir], logs: [log] });
  assert.equal(r.diagnostics, []);
  const n = byHost(r.nodes);
  assert.equal(Object.fromEntries(Object.entries(n).map(([h, s]) => [h, s.verdict])), {
    never: 'never-booted',
    boot: 'booting',
    disk: 'local',
    inst: 'installing',
    done: 'installed',
    fail: 'failed',
    loop: 'loop',
  });
  assert.is(r.skipped, 1);
  // The forged event is shown, not believed.
  assert.equal(
    n.inst!.events.map((e) => [e.event, e.accepted]),
    [
      ['STARTED', true],
      ['SUCCEEDED', false],
    ],
  );
  assert.ok(n.inst!.problems.some((p) => /SUCCEEDED event .* from 10\.0\.0\.99, which is not the node's address: ignored/.test(p)));
  // Files attributed by the address that fetched the node's script.
  assert.equal(n.done!.fetches.kernel, { count: 1, last: '2026-11-23T10:11:00.000Z', status: 200, ip: '10.0.0.15' });
  assert.is(n.done!.installs, 1);
  assert.is(n.loop!.installs, 1);
  assert.ok(n.loop!.problems.some((p) => /started installing again within 60 min/.test(p)));
  assert.ok(n.boot!.problems.some((p) => /config refused \(403\) .* from 10\.0\.0\.150/.test(p)));
  assert.equal(n.disk!.last_boot, { time: '2026-11-23T10:06:00.000Z', ip: '10.0.0.13', mac: '52:54:00:00:00:03', status: 200 });
  assert.equal(r.unknown, [
    {
      site: 'st',
      mac: '52:54:00:ff:00:01',
      first: '2026-11-23T10:08:00.000Z',
      last: '2026-11-23T10:08:00.000Z',
      requests: 2,
      ips: ['10.0.0.160'],
      report: {
        uuid: '4c4c4544-0042-3510-8051-b2c04f4e3732',
        serial: 'SN 123',
        manufacturer: 'Dell Inc.',
        product: 'PowerEdge R650',
        platform: 'efi',
      },
    },
  ]);
});

test('keyed names (nginx.file_key): configs match their node by the tagged name; a fetch of the plain script name is the stub, a problem, not a boot', async () => {
  const dir = site();
  writeFileSync(join(dir, 'site.yaml'), `${readFileSync(join(dir, 'site.yaml'), 'utf8')}nginx:\n  file_key: { env: HARVGEN_FILE_KEY }\n`);
  const x = 'x'.repeat(32);
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    [
      line('10.0.0.14', 10, `/ipxe/52-54-00-00-00-04-${x}.ipxe`, 200),
      line('10.0.0.14', 11, `/harvester/inst-${x}.yaml`, 200),
      line('10.0.0.12', 12, '/ipxe/52-54-00-00-00-02.ipxe', 200),
      // A forged terminal escape and line in what an unknown machine reports.
      line('10.0.0.160', 13, '/harvgen-discover?mac=52-54-00-ff-00-09&serial=%1b%5b2J%0aFAKE', 200),
    ].join('\n') + '\n',
  );
  const r = await status({ sites: [dir], logs: [log] });
  const n = byHost(r.nodes);
  assert.is(n.inst!.verdict, 'installing');
  assert.is(n.inst!.fetches.config?.status, 200);
  assert.is(n.boot!.verdict, 'never-booted');
  assert.ok(
    n.boot!.problems.some((p) => /fetched the stub at its plain script name/.test(p)),
    JSON.stringify(n.boot),
  );
  assert.is(r.unknown.find((u) => u.mac === '52:54:00:ff:00:09')?.report?.serial, '?[2J?FAKE');
});

test('a loop mended (an install since that stayed installed) is no longer a loop', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    `${[...install('loop', 7, 10, ['STARTED', 'SUCCEEDED']), ...install('loop', 7, 30, ['STARTED', 'SUCCEEDED'])].join('\n')}\n`,
  );
  const looping = byHost((await status({ sites: [dir], logs: [log] })).nodes);
  // The second install finished; nothing started after it: installed, though it looped before.
  assert.is(looping.loop!.verdict, 'installed');
  assert.is(looping.loop!.installs, 2);
});

test('rotated and gzipped logs of several servers merge in time order; --since drops older requests', async () => {
  const dir = site();
  const all = logs();
  const a = join(dir, '..', 'access.log.2.gz');
  const b = join(dir, '..', 'access.log');
  writeFileSync(a, gzipSync(`${all.slice(0, 20).join('\n')}\n`));
  writeFileSync(b, `${all.slice(20).join('\n')}\n`);
  const whole = byHost((await status({ sites: [dir], logs: [b, a] })).nodes);
  assert.is(whole.loop!.verdict, 'loop');
  assert.is(whole.done!.verdict, 'installed');
  // Since 10:30 only loop's second install is left: it is installing, and the others have no request.
  const late = byHost((await status({ sites: [dir], logs: [a, b], since: T0 + 30 * 60_000 })).nodes);
  assert.is(late.loop!.verdict, 'installing');
  assert.is(late.done!.verdict, 'never-booted');
});

test('the CLI: a line per node, the unknown machines, --json, exit 2 for an unreadable log', () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  const human = runCli(['status', dir, '--log', log]);
  assert.is(human.code, 0, human.stderr);
  assert.match(human.stdout, /^loop +loop /m);
  assert.match(human.stdout, /^done +installed /m);
  assert.match(human.stdout, /52:54:00:ff:00:01 .*Dell Inc\. PowerEdge R650/);
  const json = runCli(['status', dir, '--log', log, '--json']);
  assert.is(json.code, 0, json.stderr);
  const doc = assertJson<{ command: string; nodes: NodeStatus[]; unknown: unknown[] }>(json.stdout, 'status --json');
  assert.is(doc.command, 'status');
  assert.is(doc.nodes.length, 7);
  assert.is(doc.unknown.length, 1);
  const missing = runCli(['status', dir, '--log', join(dir, 'nope.log'), '--json']);
  assert.is(missing.code, 2);
  assert.match(assertJson(missing.stdout, 'status --json, unreadable log').diagnostics ? missing.stdout : '', /STATUS_LOG_UNREADABLE/);
  const noLog = runCli(['status', dir]);
  assert.is(noLog.code, 2);
  assert.match(noLog.stderr, /--log/);
  const badSince = runCli(['status', dir, '--log', log, '--since', 'yesterday']);
  assert.is(badSince.code, 2);
});

test("the configs ask the installer for its events; boot.report: false leaves them out; a node's own webhooks are kept first", async () => {
  const dir = site();
  const text = readFileSync(join(dir, 'site.yaml'), 'utf8');
  const configs = async (yaml: string) => {
    writeFileSync(join(dir, 'site.yaml'), yaml);
    const r = await compileSite(dir);
    assert.ok(r.artifacts, JSON.stringify(r.diagnostics));
    return (h: string) =>
      parse(r.artifacts!.find((a) => a.path === `harvester/${h}.yaml`)!.contents as string) as { install: { webhooks?: unknown[] } };
  };
  const on = await configs(text);
  assert.equal(on('done').install.webhooks, [
    { event: 'STARTED', method: 'GET', url: 'http://10.0.0.1/harvgen-events/done/STARTED?mac={{.MACAddr}}&ip={{.IPAddrV4}}' },
    { event: 'SUCCEEDED', method: 'GET', url: 'http://10.0.0.1/harvgen-events/done/SUCCEEDED?mac={{.MACAddr}}&ip={{.IPAddrV4}}' },
    { event: 'FAILED', method: 'GET', url: 'http://10.0.0.1/harvgen-events/done/FAILED?mac={{.MACAddr}}&ip={{.IPAddrV4}}' },
  ]);
  const off = await configs(text.replace('boot:\n', 'boot:\n  report: false\n'));
  assert.is(off('done').install.webhooks, undefined);
  const own = { event: 'SUCCEEDED', method: 'POST', url: 'https://cmdb.example/installed' };
  const mine = await configs(
    text.replace(
      '    state: install\n    role: join\n',
      `    state: install\n    role: join\n    config: { install: { webhooks: [${JSON.stringify(own)}] } }\n`,
    ),
  );
  const hooks = mine('boot').install.webhooks!;
  assert.equal(hooks[0], own);
  assert.is(hooks.length, 4);
});

test('discover: a stub per unknown machine in discovered/, which the site does not load; a hostile report stays a comment', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  const hostile = line(
    '10.0.0.161',
    9,
    '/harvgen-discover?mac=52-54-00-ff-00-02&serial=x%0Ahostname:%20pwned%0Dip:%2010.0.0.1&product=%E2%80%A8role:%20create',
    204,
  );
  writeFileSync(log, `${[...logs(), line('10.0.0.161', 9, '/ipxe/52-54-00-ff-00-02.ipxe', 404), hostile].join('\n')}\n`);
  const dry = runCli(['discover', dir, '--log', log, '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would write +\S*discovered\/new-ff0001\.yaml/);
  assert.not.ok(existsSync(join(dir, 'discovered')));
  const r = await discover({ sites: [dir], logs: [log], write: true });
  assert.equal(
    r.unknown.map((u) => [u.mac, u.written]),
    [
      ['52:54:00:ff:00:01', true],
      ['52:54:00:ff:00:02', true],
    ],
  );
  const stub = readFileSync(join(dir, 'discovered/new-ff0001.yaml'), 'utf8');
  assert.match(stub, /manufacturer Dell Inc\., product PowerEdge R650, serial SN 123, SMBIOS UUID 4c4c4544/);
  assert.equal(parse(stub), { macs: ['52:54:00:ff:00:01'] });
  // The reported values are anyone's: no line break of theirs reaches the file.
  const evil = readFileSync(join(dir, 'discovered/new-ff0002.yaml'), 'utf8');
  assert.equal(parse(evil), { macs: ['52:54:00:ff:00:02'] });
  assert.match(evil, /serial x\?hostname: pwned\?ip: 10\.0\.0\.1/);
  // Not loaded: the site checks as before; a second run keeps the (maybe edited) stubs.
  writeFileSync(join(dir, 'discovered/new-ff0001.yaml'), `${stub}# edited\n`);
  const again = await discover({ sites: [dir], logs: [log], write: true });
  assert.ok(again.unknown.every((u) => !u.written));
  assert.match(readFileSync(join(dir, 'discovered/new-ff0001.yaml'), 'utf8'), /# edited/);
  const check = runCli(['check', dir]);
  assert.is(check.code, 0, check.stderr);
  const json = runCli(['discover', dir, '--log', log, '--json']);
  assert.is(assertJson<{ unknown: unknown[] }>(json.stdout, 'discover --json').unknown.length, 2);
});

test.run();
