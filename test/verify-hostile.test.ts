// verify against a boot server that misbehaves on the wire (test/helpers/hostile-http.ts): a body
// longer than the deploy tree's file is read no further than its built size (an endless body, or
// a Content-Length announcing more, is VERIFY_DRIFT at once); a Content-Length that disagrees
// with the body is said with its numbers, not called "did not answer"; a server that trickles its
// answers is stopped by the run's time limit (--deadline), whatever the idle timeout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli.ts';
import { build } from '../src/index.ts';
import { allowed, contentKind, verify } from '../src/verify/index.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { hostileHttp, type Behaviour, type HostileServer } from './helpers/hostile-http.ts';
import { tempDir } from './helpers/tmp.ts';

interface File {
  path: string;
  sha256: string;
  size: number;
  url?: string;
  allow?: string[];
}

const site = exampleWithSecrets('location_x');
const deploy = join(tempDir('verify-hostile'), 'deploy');
const tree = join(deploy, 'location_x');
let served: File[] = [];
/** The boot server's own addresses, which the generated nginx also serves every protected file to (manifest boot.verifiers). */
let verifiers: string[] = [];
/** Two open scripts of the tree (each MAC's own), and their bytes. */
let a: File;
let b: File;
const bytes = (f: File) => readFileSync(join(tree, f.path));
/** The unknown-MAC script (open to all). */
const u = () => served.find((f) => f.path === 'unknown.ipxe')!;

test.before(async () => {
  const built = await build({ sites: [site], outDir: deploy, secrets: 'filled' });
  assert.ok(built.ok, JSON.stringify(built.diagnostics));
  const m = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as { boot: { verifiers?: string[] }; files: File[] };
  served = m.files.filter((f) => f.url !== undefined);
  verifiers = m.boot.verifiers ?? [];
  const scripts = served.filter((f) => f.path.startsWith('ipxe/') && f.allow === undefined);
  assert.ok(scripts.length >= 2, 'two open per-MAC scripts');
  [a, b] = [scripts[0]!, scripts[1]!];
});

/** The tree served as the generated nginx config does, with `script` for some of its paths. */
function serve(script: Record<string, Behaviour>): Promise<HostileServer> {
  const byPath = new Map(served.map((f) => [`/${f.path}`, f]));
  return hostileHttp(script, (path, from) => {
    const f = byPath.get(path);
    if (f === undefined) return { status: path.includes('/../') ? 400 : 404, body: '<h1>404 Not Found</h1>' };
    if (f.allow && !allowed(from, [...verifiers, ...f.allow])) return { status: 403, body: '<h1>403 Forbidden</h1>' };
    return { status: 200, body: bytes(f), type: contentKind(f.path) === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream' };
  });
}

const TEXT = 'text/plain; charset=utf-8';

/** `p`, or a failure after `ms` (a run that does not end is the fault these tests look for). */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not done after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('a body longer than the built file is VERIFY_DRIFT, read no further: an endless one, one announcing more', async () => {
  const s = await serve({
    [`/${a.path}`]: { kind: 'endless', type: TEXT },
    [`/${b.path}`]: { kind: 'endless', contentLength: 1e12, type: TEXT },
  });
  try {
    const t0 = performance.now();
    const r = await within(20_000, verify({ sites: [site], outDir: deploy, urls: [s.url], timeoutMs: 5000, deadlineMs: 60_000 }));
    const ms = performance.now() - t0;
    const at = (f: File) => r.diagnostics.filter((d) => d.file === `${s.url}/${f.path}`);
    assert.equal(
      r.diagnostics.map((d) => d.code),
      ['VERIFY_DRIFT', 'VERIFY_DRIFT'],
      JSON.stringify(r.diagnostics, null, 1),
    );
    assert.match(at(a)[0]!.message, new RegExp(`sent more than the ${a.size} bytes built \\(\\d+ received\\); verify read no further`));
    assert.match(at(b)[0]!.message, new RegExp(`Content-Length announced 1000000000000 bytes, more than the ${b.size} built`));
    assert.ok(r.servers[0]!.reachable);
    // Cut off at once: a few socket buffers written, not the stream of a whole run.
    assert.ok((s.sent.get(`/${a.path}`) ?? 0) < 16 << 20, `${s.sent.get(`/${a.path}`)} bytes written`);
    assert.ok(ms < 20_000, `${ms} ms`);
  } finally {
    await s.close();
  }
});

test('many requests at once to a server whose every answer is endless: no MaxListenersExceededWarning', async () => {
  const warnings: string[] = [];
  const listen = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', listen);
  const s = await serve(Object.fromEntries(served.map((f) => [`/${f.path}`, { kind: 'endless', type: TEXT } as Behaviour])));
  try {
    const r = await within(30_000, verify({ sites: [site], outDir: deploy, urls: [s.url], timeoutMs: 5000, concurrency: 32 }));
    assert.ok(
      r.diagnostics.filter((d) => d.code === 'VERIFY_DRIFT').length >= served.length / 2,
      JSON.stringify(r.diagnostics.slice(0, 3)),
    );
    // A warning is emitted on the next tick.
    await new Promise((done) => setImmediate(done));
    assert.equal(warnings, []);
  } finally {
    process.off('warning', listen);
    await s.close();
  }
});

test('a Content-Length that disagrees with the body is said with its numbers (VERIFY_DRIFT), not "did not answer"', async () => {
  // The built size announced, less sent, then the connection closed.
  const body = bytes(a).subarray(0, 600);
  const s = await serve({
    [`/${a.path}`]: { kind: 'wrong-content-length', body, contentLength: a.size, type: TEXT },
    // A chunked body cut off.
    [`/${b.path}`]: { kind: 'close-early', body: bytes(b), after: 10, chunked: true, type: TEXT },
    // Less announced than sent.
    [`/${u().path}`]: { kind: 'wrong-content-length', body: bytes(u()), contentLength: u().size - 100, type: TEXT },
  });
  try {
    const r = await verify({ sites: [site], outDir: deploy, urls: [s.url], timeoutMs: 5000 });
    const at = (f: File) => r.diagnostics.find((d) => d.file === `${s.url}/${f.path}`);
    assert.not.ok(
      r.diagnostics.some((d) => d.code === 'VERIFY_UNREACHABLE'),
      JSON.stringify(r.diagnostics, null, 1),
    );
    assert.is(at(a)?.code, 'VERIFY_DRIFT');
    assert.match(
      at(a)!.message,
      new RegExp(
        `Content-Length announced ${a.size} bytes but the body ended after 600 .*built: ${a.size} bytes\\): the Content-Length disagrees with the body`,
      ),
    );
    assert.is(at(b)?.code, 'VERIFY_DRIFT');
    assert.match(at(b)!.message, new RegExp(`the body ended after 10 bytes when the server closed the connection.*built: ${b.size} bytes`));
    assert.is(at(u())?.code, 'VERIFY_DRIFT');
    assert.match(
      at(u())!.message,
      new RegExp(
        `Content-Length announced ${u().size - 100} bytes and more bytes came after them .*: the Content-Length disagrees with the body`,
      ),
    );
    assert.is(r.diagnostics.length, 3, JSON.stringify(r.diagnostics, null, 1));
    assert.ok(r.servers[0]!.reachable);
  } finally {
    await s.close();
  }
});

test('a server that trickles its answers is stopped by --deadline (VERIFY_UNREACHABLE, exit 2), though it never idles', async () => {
  // One byte every 50 ms: the idle timeout (10 s) never fires; the file would take minutes.
  const s = await serve({ [`/${a.path}`]: { kind: 'drip', body: bytes(a), intervalMs: 50, type: TEXT } });
  try {
    let stdout = '';
    const t0 = performance.now();
    const code = await within(
      8000,
      main(['verify', site, '--url', s.url, '--out', deploy, '--deadline', '1.5', '--json'], {
        out: { write: (x: string) => (stdout += x) },
        err: { write: () => true },
      }),
    );
    const ms = performance.now() - t0;
    const doc = assertJson<{ diagnostics: { code: string; message: string; file?: string }[] }>(stdout, 'verify --deadline');
    assert.is(code, 2, stdout);
    const d = doc.diagnostics.find((x) => x.file === `${s.url}/${a.path}`);
    assert.is(d?.code, 'VERIFY_UNREACHABLE', stdout);
    assert.match(d!.message, /no whole answer before verify's time limit of 1\.5 s \(--deadline\) ran out/);
    assert.ok(a.size > 100, 'the file takes longer than the limit to trickle in');
    assert.ok(ms < 8000, `${ms} ms`);
  } finally {
    await s.close();
  }
});

test('--deadline: not a number, or with --fleet, is a usage error', async () => {
  for (const args of [
    ['verify', site, '--deadline', '0'],
    ['verify', site, '--deadline', 'soon'],
    ['verify', '--fleet', tempDir('verify-hostile-fleet'), '--deadline', '5'],
  ]) {
    let stdout = '';
    const code = await main([...args, '--json'], { out: { write: (x: string) => (stdout += x) }, err: { write: () => true } });
    assert.is(code, 2, args.join(' '));
    const doc = assertJson<{ diagnostics: { code: string; message: string }[] }>(stdout, args.join(' '));
    assert.is(doc.diagnostics[0]!.code, 'CLI_USAGE');
    assert.match(doc.diagnostics[0]!.message, /--deadline/);
  }
});

test.run();
