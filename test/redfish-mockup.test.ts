// The static Redfish service of test/helpers/redfish-mockup.ts over test/fixtures/redfish/: each
// fixture holds exactly the resources the facts walk reaches, each under its own @odata.id, with
// the facts its README promises; authentication, 404, 405, path traversal and TLS are answered as
// a BMC does; each hostile mode misbehaves as documented.
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HUGE_BYTES,
  REDIRECT_TARGET,
  startMockup,
  type HostileMode,
  type MockupOptions,
  type MockupServer,
} from './helpers/redfish-mockup.ts';
import { selfSigned } from './helpers/hostile-registry.ts';
import { tempDir } from './helpers/tmp.ts';

const FIXTURES = resolve(import.meta.dirname, 'fixtures/redfish');
const ROOT = '/redfish/v1';
const AUTH = basic('admin', 'secret');
const SYSTEM = '/redfish/v1/Systems/437XR1138R2';

/** A Redfish resource: JSON of any shape. */
type Res = Record<string, any>;

type Answer = { readonly status: number; readonly headers: http.IncomingHttpHeaders; readonly body: Buffer };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Open a request with `path` sent exactly as given (`..` and escapes included). */
function open(s: MockupServer, path: string, opts: { auth?: string; method?: string } = {}) {
  const { hostname, port, protocol } = new URL(s.url);
  const headers: Record<string, string> = opts.auth === undefined ? {} : { authorization: opts.auth };
  const options = { hostname, port, path, method: opts.method ?? 'GET', headers, agent: false, ca: selfSigned().cert };
  const req = protocol === 'https:' ? https.request(options) : http.request(options);
  const response = new Promise<http.IncomingMessage>((ok, fail) => {
    req.on('response', ok);
    req.on('error', fail);
  });
  req.end();
  return { req, response };
}

/** The whole answer to one request. */
async function get(s: MockupServer, path: string, opts: { auth?: string; method?: string } = {}): Promise<Answer> {
  const res = await open(s, path, opts).response;
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) };
}

async function withMockup(dir: string, opts: MockupOptions, f: (s: MockupServer) => Promise<void>): Promise<void> {
  const s = await startMockup(dir, opts);
  try {
    await f(s);
  } finally {
    await s.close();
  }
}

const trim = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
const link = (r: Res | undefined, key: string): string | undefined => r?.[key]?.['@odata.id'];

/** Resources of the DMTF mockups whose @odata.id is not their own path, kept as published. */
const ODATA_ID_QUIRKS: Readonly<Record<string, string>> = {
  '/redfish/v1/Chassis/Tower/Drives/Disk-2-0': '/redfish/v1/Chassis/Tower/Drives/Disk-2-1',
  '/redfish/v1/Chassis/Tower/Drives/Disk-2-1': '/redfish/v1/Chassis/Tower/Drives/Disk-2-0',
};

/** The facts walk over the server (authenticated): every resource it reaches, by @odata.id. */
async function walk(s: MockupServer): Promise<Map<string, Res>> {
  const seen = new Map<string, Res>();
  const fetchRes = async (id: string): Promise<Res> => {
    const a = await get(s, id, { auth: AUTH });
    assert.is(a.status, 200, `${id} is served`);
    assert.is(a.headers['content-type'], 'application/json');
    const r = JSON.parse(a.body.toString('utf8')) as Res;
    assert.is(trim(r['@odata.id']), ODATA_ID_QUIRKS[id] ?? trim(id), `${id} holds its own @odata.id`);
    seen.set(trim(id), r);
    return r;
  };
  const members = async (id: string | undefined): Promise<Res[]> => {
    if (id === undefined) return [];
    const out: Res[] = [];
    for (const m of (await fetchRes(id)).Members as Res[]) out.push(await fetchRes(m['@odata.id']));
    return out;
  };
  const root = await fetchRes(ROOT);
  for (const sys of await members(link(root, 'Systems'))) {
    for (const key of ['Processors', 'Memory', 'SimpleStorage', 'EthernetInterfaces']) await members(link(sys, key));
    for (const st of await members(link(sys, 'Storage'))) for (const d of (st.Drives ?? []) as Res[]) await fetchRes(d['@odata.id']);
    for (const key of ['SecureBoot', 'Bios']) if (link(sys, key) !== undefined) await fetchRes(link(sys, key)!);
  }
  return seen;
}

/** Every resource file of a fixture, as the @odata.id it serves. */
function resourceIds(dir: string): string[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('index.json'));
  return files.map((f) => `/${dirname(f)}`).sort();
}

interface Facts {
  readonly systemType: string;
  readonly model: string;
  readonly threads: number;
  readonly memoryMiB: number;
  readonly totalGiB: number;
  /** `MAC speed`, speed `null` or `absent` when not a number. */
  readonly nics: string[];
  /** CapacityBytes of each present drive (Storage), and of each present SimpleStorage device. */
  readonly drives: number[];
  readonly simple: number[];
  readonly boot: string;
  readonly bootAllowed?: string[];
  readonly biosBootMode?: string;
  readonly secureBoot?: boolean;
}

const present = (r: Res) => r.Status?.State !== 'Absent';
const under = (seen: Map<string, Res>, id: string) => [...seen.entries()].filter(([k]) => k.startsWith(`${id}/`)).map(([, r]) => r);

/** What the walk found of the one system, in the terms the fixtures README uses. */
function facts(seen: Map<string, Res>): Facts {
  const systems = (seen.get(`${ROOT}/Systems`)!.Members as Res[]).map((m) => seen.get(trim(m['@odata.id']))!);
  assert.is(systems.length, 1, 'one system');
  const sys = systems[0]!;
  const id = trim(sys['@odata.id']);
  const items = (key: string) => under(seen, `${id}/${key}`).filter((r) => !('Members' in r));
  const speed = (n: Res) => ('SpeedMbps' in n ? String(n.SpeedMbps) : 'absent');
  const storages = items('Storage');
  return {
    systemType: sys.SystemType,
    model: sys.Model,
    threads: sum(
      items('Processors').filter((p) => p.ProcessorType === 'CPU' && present(p)),
      'TotalThreads',
    ),
    memoryMiB: sum(items('Memory').filter(present), 'CapacityMiB'),
    totalGiB: sys.MemorySummary.TotalSystemMemoryGiB,
    nics: items('EthernetInterfaces').map((n) => `${n.MACAddress} ${speed(n)}`),
    drives: storages
      .flatMap((st) => ((st.Drives ?? []) as Res[]).map((d) => seen.get(d['@odata.id'])!))
      .filter(present)
      .map((d) => d.CapacityBytes),
    simple: items('SimpleStorage').flatMap((ss) => (ss.Devices as Res[]).filter(present).map((d) => d.CapacityBytes)),
    boot: sys.Boot.BootSourceOverrideMode,
    bootAllowed: sys.Boot['BootSourceOverrideMode@Redfish.AllowableValues'],
    biosBootMode: seen.get(`${id}/Bios`)?.Attributes.BootMode,
    secureBoot: seen.get(`${id}/SecureBoot`)?.SecureBootEnable,
  };
}

function sum(rs: Res[], key: string): number {
  return rs.reduce((n, r) => n + (r[key] as number), 0);
}

const TOWER_NVME = 1125899906842624;
const LOCAL_HDD = 899527000064;
const QEMU = 'Standard PC (Q35 + ICH9, 2009)';
const LOCAL_NICS = ['12:44:6A:3B:04:11 1000', 'AA:BB:CC:DD:EE:00 1000'];
const LOCAL: Facts = {
  systemType: 'Physical',
  model: '3500RX',
  threads: 16,
  memoryMiB: 98304,
  totalGiB: 96,
  nics: LOCAL_NICS,
  drives: [LOCAL_HDD, LOCAL_HDD, LOCAL_HDD, LOCAL_HDD],
  simple: [],
  boot: 'UEFI',
  bootAllowed: undefined,
  biosBootMode: 'Uefi',
  secureBoot: undefined,
};
const RACKMOUNT: Facts = {
  ...LOCAL,
  model: '3500',
  nics: [...LOCAL_NICS, '12:44:6A:3B:04:11 1000', 'AA:BB:CC:DD:EE:FE 100'],
  drives: [],
  simple: [8000000000000, 4000000000000],
  secureBoot: false,
};

/** Each fixture and the facts it holds (the originals as DMTF wrote them, the variants as the README says). */
const FIXTURE_FACTS: Record<string, Facts> = {
  'public-rackmount1': RACKMOUNT,
  'public-tower': {
    ...LOCAL,
    model: '3500',
    threads: 256,
    memoryMiB: 1048576,
    totalGiB: 1024,
    nics: ['FB:AA:1D:4E:D0:7A 10000', 'FB:AA:1D:4E:D0:7C 10000'],
    drives: [TOWER_NVME, TOWER_NVME, ...Array<number>(4).fill(20266198323167230), ...Array<number>(4).fill(TOWER_NVME)],
    secureBoot: false,
  },
  'public-localstorage': LOCAL,
  'mem-31-of-32': { ...LOCAL, threads: 32, memoryMiB: 32768, totalGiB: 31, nics: ['12:44:6A:3B:04:11 10000'], drives: [480103981056] },
  'nic-2500': { ...LOCAL, nics: ['12:44:6A:3B:04:11 2500', 'AA:BB:CC:DD:EE:00 2500'] },
  virtio: { ...LOCAL, systemType: 'Virtual', model: QEMU, nics: ['12:44:6A:3B:04:11 absent', 'AA:BB:CC:DD:EE:00 null'] },
  'no-disk': { ...LOCAL, drives: [] },
  'bios-only': { ...RACKMOUNT, boot: 'Legacy', bootAllowed: ['Legacy'], biosBootMode: 'Legacy' },
};

test('the fixtures are the mockups and variants the README lists', () => {
  const dirs = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory());
  assert.equal(dirs.map((d) => d.name).sort(), Object.keys(FIXTURE_FACTS).sort());
});

for (const [name, expected] of Object.entries(FIXTURE_FACTS)) {
  test(`${name}: the walk reaches every resource it holds, each served with its facts`, async () => {
    const dir = join(FIXTURES, name);
    await withMockup(dir, {}, async (s) => {
      const seen = await walk(s);
      assert.equal([...seen.keys()].sort(), resourceIds(dir), 'no resource missing, none the walk does not reach');
      assert.equal(facts(seen), expected);
    });
  });
}

test('the service root needs no credentials, with or without its slash; the rest do', async () => {
  await withMockup(join(FIXTURES, 'public-rackmount1'), {}, async (s) => {
    for (const p of [ROOT, `${ROOT}/`]) {
      const a = await get(s, p);
      assert.is(a.status, 200, p);
      assert.is(JSON.parse(a.body.toString()).Id, 'RootService');
    }
    for (const p of [`${ROOT}/Systems`, `${ROOT}/Systems/`, SYSTEM]) {
      for (const auth of [undefined, basic('admin', 'wrong'), 'Bearer x']) {
        const a = await get(s, p, { auth });
        assert.is(a.status, 401, `${p} with ${auth}`);
        assert.match(a.headers['www-authenticate'] ?? '', /^Basic /);
        assertRedfishError(a, 'ResourceAtUriUnauthorized');
      }
    }
    assert.is((await get(s, `${ROOT}/Systems/`, { auth: AUTH })).status, 200, 'a trailing slash is served');
    assert.equal(s.requests.slice(0, 2), [ROOT, `${ROOT}/`], 'requests recorded in order');
  });
});

test('user and password come from the options; tls serves HTTPS', async () => {
  await withMockup(join(FIXTURES, 'public-tower'), { user: 'root', password: 'calvin', tls: true }, async (s) => {
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.is((await get(s, `${ROOT}/Systems`, { auth: AUTH })).status, 401);
    assert.is((await get(s, `${ROOT}/Systems`, { auth: basic('root', 'calvin') })).status, 200);
  });
});

function assertRedfishError(a: Answer, messageId: string): void {
  assert.is(a.headers['content-type'], 'application/json');
  const e = JSON.parse(a.body.toString()).error as Res;
  assert.match(e.code, new RegExp(`^Base\\.1\\.\\d+\\.${messageId}$`));
  assert.ok(e.message.length > 0);
  assert.is(e['@Message.ExtendedInfo'][0].MessageId, e.code);
}

test('a missing resource is 404, anything but GET 405, each with a Redfish error body', async () => {
  await withMockup(join(FIXTURES, 'public-localstorage'), {}, async (s) => {
    for (const p of [`${ROOT}/Systems/nope`, `${ROOT}/Managers`, '/redfish', '/', '/index.json']) {
      const a = await get(s, p, { auth: AUTH });
      assert.is(a.status, 404, p);
      assertRedfishError(a, 'ResourceNotFound');
    }
    for (const method of ['POST', 'PATCH', 'DELETE', 'PUT']) {
      const a = await get(s, SYSTEM, { auth: AUTH, method });
      assert.is(a.status, 405, method);
      assert.is(a.headers.allow, 'GET');
      assertRedfishError(a, 'OperationNotAllowed');
    }
  });
});

test('nothing outside the mockup directory is served: .. (plain or encoded) and symbolic links', async () => {
  const top = tempDir('redfish-mockup');
  const dir = join(top, 'mockup');
  mkdirSync(join(dir, 'redfish/v1'), { recursive: true });
  writeFileSync(join(dir, 'redfish/v1/index.json'), '{"@odata.id": "/redfish/v1/"}');
  mkdirSync(join(top, 'secret'));
  writeFileSync(join(top, 'secret/index.json'), '{"secret": true}');
  symlinkSync(join(top, 'secret'), join(dir, 'redfish/v1/Link'));
  await withMockup(dir, {}, async (s) => {
    const escapes = [
      '/redfish/v1/../../../secret',
      '/redfish/v1/Systems/../../../../secret/',
      '/redfish/v1/%2e%2e/%2e%2e/%2E%2E/secret',
      '/redfish/v1/..%2f..%2f..%2fsecret',
      '/redfish/v1/%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret',
      '/redfish/v1/..%5c..%5c..%5csecret',
      '/redfish/../../secret',
      '/redfish/v1/%zz',
    ];
    for (const p of escapes) {
      for (const auth of [undefined, AUTH]) {
        const a = await get(s, p, { auth });
        assert.is(a.status, 400, p);
        assert.not.match(a.body.toString(), 'secret": true');
      }
    }
    assert.is((await get(s, `${ROOT}/Link`, { auth: AUTH })).status, 404, 'a symbolic link out of the directory');
    assert.is((await get(s, ROOT)).status, 200, 'the mockup itself is served');
  });
});

/** `p`, or a failure after `ms`. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const HOSTILE = `${SYSTEM}/Memory`;

async function hostile(mode: HostileMode, f: (s: MockupServer) => Promise<void>): Promise<void> {
  await withMockup(join(FIXTURES, 'public-localstorage'), { hostile: { [HOSTILE]: mode } }, async (s) => {
    const anonymous = open(s, HOSTILE);
    const first = await within(3000, anonymous.response, 'the answer without credentials');
    anonymous.req.destroy();
    assert.is(first.statusCode, 401, 'credentials are still asked for first');
    await f(s);
    assert.is((await get(s, SYSTEM, { auth: AUTH })).status, 200, 'other paths are served as before');
    assert.ok(s.requests.includes(HOSTILE));
  });
}

test("hostile 'huge': a 64 MiB JSON object under its true Content-Length", async () => {
  await hostile('huge', async (s) => {
    const a = await get(s, `${HOSTILE}/`, { auth: AUTH });
    assert.is(a.status, 200);
    assert.is(a.headers['content-length'], String(64 * 1024 * 1024));
    assert.is(a.body.length, HUGE_BYTES);
    assert.is(JSON.parse(a.body.toString('latin1'))['@odata.id'], HOSTILE);
  });
});

test("hostile 'endless': a chunked body still coming after 4 MiB, cut off when the client leaves", async () => {
  await hostile('endless', async (s) => {
    const { req, response } = open(s, HOSTILE, { auth: AUTH });
    const res = await response;
    assert.is(res.headers['transfer-encoding'], 'chunked');
    assert.is(res.headers['content-length'], undefined);
    let got = 0;
    for await (const c of res) {
      got += (c as Buffer).length;
      if (got > 4 * 1024 * 1024) break;
    }
    req.destroy();
    assert.ok(got > 4 * 1024 * 1024, `${got} bytes and more to come`);
  });
});

test("hostile 'hang': no headers, ever; close() ends hanging and endless answers", async () => {
  const s = await startMockup(join(FIXTURES, 'public-localstorage'), { hostile: { [HOSTILE]: 'hang', [`${ROOT}/Systems`]: 'endless' } });
  const hung = open(s, HOSTILE, { auth: AUTH });
  const endless = await open(s, `${ROOT}/Systems`, { auth: AUTH }).response;
  endless.on('error', () => {});
  endless.resume();
  const cut = new Promise<void>((r) => endless.on('close', r));
  let answered = false;
  hung.req.on('response', () => (answered = true));
  const failed = hung.response.catch((e: Error) => e.message);
  await new Promise((r) => setTimeout(r, 500));
  assert.not.ok(answered, 'no headers after 500 ms');
  await within(3000, s.close(), 'close()');
  assert.match(String(await within(3000, failed, 'the hanging request')), /socket hang up/);
  await within(3000, cut, 'the endless answer');
});

test("hostile 'redirect', 'not-json', 'html'", async () => {
  await hostile('redirect', async (s) => {
    const a = await get(s, HOSTILE, { auth: AUTH });
    assert.is(a.status, 302);
    assert.is(a.headers.location, REDIRECT_TARGET);
  });
  await hostile('not-json', async (s) => {
    const a = await get(s, HOSTILE, { auth: AUTH });
    assert.is(a.status, 200);
    assert.is(a.headers['content-type'], 'application/json');
    assert.throws(() => JSON.parse(a.body.toString()));
  });
  await hostile('html', async (s) => {
    const a = await get(s, HOSTILE, { auth: AUTH });
    assert.is(a.status, 200);
    assert.match(a.headers['content-type'] ?? '', /^text\/html/);
    assert.match(a.body.toString(), /^<!DOCTYPE html>/);
  });
});

test.run();
