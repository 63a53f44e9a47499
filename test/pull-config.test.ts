// Which nginx config a boot server runs: a published site's nginx config answers
// `.harvgen/config` with its own id, and `harvgen pull` waits for the new tree's id after a reload
// before it verifies (nginx -s reload returns before nginx has read the new config, and its old
// workers answer new connections meanwhile: test/real/fleet.test.ts fetches right after a pull).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/pipeline.ts';
import type { RenderCache } from '../src/render/index.ts';
import { publish } from '../src/publish/index.ts';
import { pull } from '../src/pull/index.ts';
import { waitForConfig } from '../src/pull/verify.ts';
import { CONFIG_ID_UNSET, configIdOf, sealConfigId } from '../src/render/nginx-config-id.ts';
import { MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const ZEROS = `return 200 "${CONFIG_ID_UNSET}\\n";`;

test('sealConfigId writes the SHA-256 of the text with the id as zeros, in the last marker only; configIdOf reads it back and refuses an edited text', () => {
  const text = `a ${ZEROS}\nb ${ZEROS}\nc\n`;
  const sealed = sealConfigId(text);
  const id = createHash('sha256').update(text).digest('hex');
  assert.is(sealed, `a ${ZEROS}\nb return 200 "${id}\\n";\nc\n`);
  assert.is(configIdOf(sealed), id);
  assert.is(configIdOf(sealed.replace('\nc\n', '\nd\n')), undefined, 'an edited text keeps an id that is not its own');
  assert.is(configIdOf('location / { return 404; }\n'), undefined);
  assert.is(sealConfigId('no marker\n'), 'no marker\n');
});

/** A published site (test/helpers/publish.ts) built into a temporary directory: its nginx files. */
async function builtSite(edit?: (yaml: string) => string) {
  const repo = publishedRepo('registry.example.net/harvgen', { bootServer: { base: tempDir('pull-config-boot') } });
  if (edit) {
    const file = join(repo.site, 'site.yaml');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
  }
  const site = await compileSite(repo.site, { cwd: repo.root });
  assert.equal(
    site.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
  const file = (p: string) => site.artifacts!.find((a) => a.path === p)!.contents as string;
  return { server: file('nginx/harvgen.conf'), locations: file('nginx/locations.conf') };
}

test("a published site's nginx configs (server block and locations) each answer .harvgen/config with their own id, which changes with the config", async () => {
  const a = await builtSite();
  for (const text of [a.server, a.locations]) {
    const id = configIdOf(text);
    assert.ok(id !== undefined, text);
    const block = new RegExp(
      `location = /\\.harvgen/config \\{\\n(?:.*\\n)*? {8}add_header Cache-Control "no-store" always;\\n {8}return 200 "${id}\\\\n";\\n {4}\\}\\n`,
    );
    assert.match(text, block);
  }
  assert.is.not(configIdOf(a.server), configIdOf(a.locations));
  const b = await builtSite((y) => y.replace(/(\n {2}access_log: )(\S+)/, '$1$2.2'));
  assert.is.not(b.server, a.server, 'the edit did not apply');
  assert.is.not(configIdOf(b.server), configIdOf(a.server));
});

test("under watch's render cache the sealed configs are those of a render without it, build after build", async () => {
  const repo = publishedRepo('registry.example.net/harvgen', { bootServer: { base: tempDir('pull-config-boot') } });
  const renderCaches = new Map<string, RenderCache>();
  const nginx = (site: Awaited<ReturnType<typeof compileSite>>) =>
    site.artifacts!.filter((a) => a.path.startsWith('nginx/')).map((a) => [a.path, a.contents]);
  const plain = nginx(await compileSite(repo.site, { cwd: repo.root }));
  assert.is(plain.length, 2);
  for (let i = 0; i < 3; i++) assert.equal(nginx(await compileSite(repo.site, { cwd: repo.root, renderCaches })), plain);
  // A change of the config: a new id, as without the cache.
  const file = join(repo.site, 'site.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/(\n {2}access_log: )(\S+)/, '$1$2.2'));
  const changed = nginx(await compileSite(repo.site, { cwd: repo.root, renderCaches }));
  assert.equal(changed, nginx(await compileSite(repo.site, { cwd: repo.root })));
  assert.is.not(configIdOf(changed[0]![1] as string), configIdOf(plain[0]![1] as string));
});

test('only fixed text follows the id in either form: no inventory value can move where it is written or read', async () => {
  const a = await builtSite();
  const after = (text: string) => text.slice(text.lastIndexOf('return 200 "') + 'return 200 "'.length + 64);
  assert.is(after(a.server), '\\n";\n    }\n    location / {\n        return 404;\n    }\n}\n');
  assert.is(after(a.locations), '\\n";\n    }\n');
});

test('a site without publish: has no .harvgen/config location', async () => {
  const site = await compileSite(join(import.meta.dirname, '../sites/location_x'));
  for (const path of ['nginx/harvgen.conf', 'nginx/locations.conf']) {
    const text = site.artifacts!.find((x) => x.path === path)!.contents as string;
    assert.ok(text.includes('location = /boot.ipxe'), path);
    assert.not.ok(text.includes('.harvgen/config'), path);
    assert.is(configIdOf(text), undefined);
  }
});

/** A published site (test/helpers/publish.ts) in a memory registry, and its boot server's pull.json. */
async function publishedSite() {
  const base = tempDir('pull-config');
  const repo = publishedRepo('registry.example.net/harvgen', { bootServer: { base } });
  const reg = new MemoryRegistry();
  const config = await repo.pullConfig(base);
  const p = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null });
  assert.ok(p.sites[0]?.digest !== undefined, JSON.stringify(p.diagnostics));
  return { base, reg, config };
}

/**
 * A published site pulled with verify on, its "boot server" a Node server: `.harvgen/config`
 * answers `answer(n, newId)` to its n-th request (`newId()`: the id of the config pull switched to),
 * every other path 404. The result, and the paths asked in order.
 */
async function pullAgainst(answer: (n: number, newId: () => string) => string, configWaitMs: number) {
  const { base, reg, config } = await publishedSite();
  const newId = () => configIdOf(readFileSync(join(base, 'srv/location_y/nginx/harvgen.conf'), 'utf8')) ?? 'none';
  const asked: string[] = [];
  const at: number[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    at.push(performance.now());
    if (req.url === '/.harvgen/config') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(answer(n++, newId));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await pull({ config, source: (c) => reg.sink(c.repository), verifyUrl: url, configWaitMs });
    return { r, asked, at, newId };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const OLD = `${'1'.repeat(64)}\n`;

test('pull asks .harvgen/config until the server has answered only the new config for half a second (an old answer starts that again), and only then verifies', async () => {
  // Old, old, old, old, new, new, new, old (an old worker still taking connections), then new.
  const { r, asked, at, newId } = await pullAgainst((n, id) => (n < 4 || n === 7 ? OLD : `${id()}\n`), 10_000);
  assert.match(newId(), /^[0-9a-f]{64}$/);
  const firstOther = asked.findIndex((p) => p !== '/.harvgen/config');
  assert.ok(firstOther > 8, asked.slice(0, 12).join(' '));
  // The eighth ask (index 7) got the old id: at least 500 ms of new answers after it before verify's first request.
  assert.ok(at[firstOther]! - at[7]! >= 500, `${at[firstOther]! - at[7]!} ms`);
  // Then verify asked for the tree's files (this server has none of them).
  assert.ok(asked.slice(firstOther).filter((p) => p !== '/.harvgen/config').length > 10, asked.join(' '));
  assert.is(r.action, 'switched');
  assert.not.ok(
    r.verdict?.problems?.some((p) => p.startsWith('VERIFY_STALE_CONFIG')),
    JSON.stringify(r.verdict),
  );
});

test('a server that goes on answering another config: the verdict fails with VERIFY_STALE_CONFIG, nothing else is asked, and pull says why', async () => {
  const { r, asked } = await pullAgainst(() => OLD, 700);
  assert.is(r.action, 'switched');
  assert.is(r.ok, false);
  assert.ok(asked.length >= 3, asked.join(' '));
  assert.ok(
    asked.every((p) => p === '/.harvgen/config'),
    asked.join(' '),
  );
  assert.is(r.verdict?.ok, false);
  const problem = r.verdict?.problems?.[0] ?? '';
  assert.match(
    problem,
    /^VERIFY_STALE_CONFIG: http:\/\/127\.0\.0\.1:\d+\/\.harvgen\/config answered another config's id \("1{64}"\), not the id of the served tree's nginx\/harvgen\.conf \(or nginx\/locations\.conf\), \d+(\.\d)? s after the reload: nginx does not run the new config/,
  );
  assert.is(r.diagnostics[0]?.code, 'PULL_FAILED');
  assert.match(r.diagnostics[0]!.message, /is switched to, but nginx does not run its config/);
  assert.match(r.diagnostics[0]!.hint ?? '', /nginx_reload/);
});

/** A tree as waitForConfig reads it: manifest.json (boot.server) and the two nginx files, each with its id. */
function fakeTree(bootServer: string, configs: boolean) {
  const tree = tempDir('pull-config-tree');
  mkdirSync(join(tree, 'nginx'));
  const manifest = { generator: 'harvgen', site: 's', secrets: 'filled', boot: { server: bootServer }, nodes: [], files: [] };
  writeFileSync(join(tree, 'manifest.json'), JSON.stringify(manifest));
  const text = (name: string) => `# ${name}\n    location = /pre/.harvgen/config {\n        ${ZEROS}\n    }\n`;
  const server = configs ? sealConfigId(text('server')) : 'location / { return 404; }\n';
  const locations = configs ? sealConfigId(text('locations')) : server;
  writeFileSync(join(tree, 'nginx/harvgen.conf'), server);
  writeFileSync(join(tree, 'nginx/locations.conf'), locations);
  return { tree, server: configIdOf(server), locations: configIdOf(locations) };
}

/** A Node server: `answer(path, n)` gives the n-th answer (a status and a body), or null to close the connection unanswered. */
async function answering(answer: (path: string, n: number) => [number, string] | null) {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    const a = answer(req.url ?? '', asked.length - 1);
    if (a === null) {
      req.socket.destroy();
      return;
    }
    res.writeHead(a[0], { 'content-type': 'text/plain' });
    res.end(a[1]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { origin, asked, close };
}

test("waitForConfig asks under boot.server's path prefix, and takes the id of locations.conf too (a server block shared by sites)", async () => {
  let t: ReturnType<typeof fakeTree> | undefined;
  const s = await answering((path) => (path === '/pre/.harvgen/config' ? [200, `${t!.locations}\n`] : [404, '']));
  try {
    t = fakeTree(`${s.origin}/pre`, true);
    assert.is.not(t.server, t.locations);
    assert.is(await waitForConfig(t.tree, undefined, 5000), undefined);
    assert.ok(s.asked.length >= 2, s.asked.join(' '));
    assert.ok(
      s.asked.every((p) => p === '/pre/.harvgen/config'),
      s.asked.join(' '),
    );
  } finally {
    await s.close();
  }
});

test('waitForConfig does not wait for a tree built without an id (a rollback to an older version): no request', async () => {
  const s = await answering(() => [200, 'x\n']);
  try {
    const t = fakeTree(`${s.origin}/pre`, false);
    assert.is(t.server, undefined);
    assert.is(await waitForConfig(t.tree, undefined, 5000), undefined);
    assert.equal(s.asked, []);
  } finally {
    await s.close();
  }
});

test('a server that answers once, then not at all, is left to verify within seconds (silent, not a stale config)', async () => {
  const s = await answering((_, n) => (n === 0 ? [200, `${'1'.repeat(64)}\n`] : null));
  try {
    const t = fakeTree(`${s.origin}/pre`, true);
    const started = performance.now();
    const wait = await waitForConfig(t.tree, undefined, 20_000);
    assert.is(wait?.kind, 'silent');
    assert.match(
      wait?.problem ?? '',
      /^VERIFY_CONFIG_SILENT: http:\/\/127\.0\.0\.1:\d+\/pre\/\.harvgen\/config gave no answer: not a byte in 3(\.\d)? s/,
    );
    const took = performance.now() - started;
    assert.ok(took >= 3000 && took < 10_000, `${took} ms`);
    assert.ok(s.asked.length >= 3, s.asked.join(' '));
  } finally {
    await s.close();
  }
});

test('a port where nothing listens yet (nginx still reloading) is asked on: once it answers the new id after 5 s, the wait settles', async () => {
  // A port taken, then let go: refused until the server listens there again, 5 s later.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const t = fakeTree(`http://127.0.0.1:${port}/pre`, true);
  const late = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.url === '/pre/.harvgen/config' ? `${t.server}\n` : '');
  });
  const opening = setTimeout(() => late.listen(port, '127.0.0.1'), 5000);
  try {
    const started = performance.now();
    const wait = await waitForConfig(t.tree, undefined, 30_000);
    const took = performance.now() - started;
    // Caught when refusals count as a hung server's silence (3 s): `silent` before the port opens.
    assert.is(wait, undefined, JSON.stringify(wait));
    assert.ok(took >= 5000 && took < 10_000, `${took} ms`);
  } finally {
    clearTimeout(opening);
    late.closeAllConnections();
    await new Promise((r) => late.close(() => r(undefined)));
  }
});

test('a hung server does not stretch the wait past its budget by more than a moment', async () => {
  const hung = http.createServer(() => {});
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  try {
    const t = fakeTree(`http://127.0.0.1:${(hung.address() as AddressInfo).port}/pre`, true);
    const started = performance.now();
    // Each ask times out (no answer), so it ends as unreachable after 3 s; the budget of 1.5 s comes first.
    const problem = (await waitForConfig(t.tree, undefined, 1500))?.problem;
    const took = performance.now() - started;
    assert.ok(took < 2500, `${took} ms`);
    assert.match(problem ?? '', /^VERIFY_STALE_CONFIG: .* answered no answer .*, 1\.\d s after the reload/);
  } finally {
    hung.closeAllConnections();
    await new Promise((r) => hung.close(r));
  }
});

test('two servers behind one address, one not reloaded: new answers that end in another id after the budget are stale, not settled', async () => {
  // The old config until 1.3 s, the new one until 1.6 s, then the old one again (the other nginx):
  // at the end of the 1.5 s budget the last answer was the new id, which had not settled.
  const started = performance.now();
  let t: ReturnType<typeof fakeTree> | undefined;
  const s = await answering(() => {
    const at = performance.now() - started;
    return [200, at >= 1300 && at < 1600 ? `${t!.server}\n` : OLD];
  });
  try {
    t = fakeTree(`${s.origin}/pre`, true);
    const problem = (await waitForConfig(t.tree, undefined, 1500))?.problem;
    assert.match(problem ?? '', /^VERIFY_STALE_CONFIG: .* answered another config's id \("1{64}"\)/);
    assert.ok(performance.now() - started < 3000, 'the settling ends soon after the budget');
  } finally {
    await s.close();
  }
});

test('answers that alternate between the new id and another never settle', async () => {
  let t: ReturnType<typeof fakeTree> | undefined;
  const s = await answering((_, n) => [200, n % 2 === 0 ? `${t!.server}\n` : OLD]);
  try {
    t = fakeTree(`${s.origin}/pre`, true);
    for (const budget of [700, 1000, 1300])
      assert.match((await waitForConfig(t.tree, undefined, budget))?.problem ?? 'settled', /^VERIFY_STALE_CONFIG: /);
  } finally {
    await s.close();
  }
});

test("an id dripped a byte a second does not stretch the wait past its budget; an oversized answer is not called another config's id", async () => {
  let t: ReturnType<typeof fakeTree> | undefined;
  const drip = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '65' });
    const body = `${t!.server}\n`;
    let i = 0;
    const timer = setInterval(() => {
      if (i >= body.length || res.destroyed) return clearInterval(timer);
      res.write(body[i++]!);
    }, 1000);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => drip.listen(0, '127.0.0.1', r));
  try {
    t = fakeTree(`http://127.0.0.1:${(drip.address() as AddressInfo).port}/pre`, true);
    const started = performance.now();
    const problem = (await waitForConfig(t.tree, undefined, 1500))?.problem;
    const took = performance.now() - started;
    assert.ok(took < 2500, `${took} ms`);
    assert.match(problem ?? '', /answered no answer \(no whole answer within 1(\.\d)? s\)/);
  } finally {
    drip.closeAllConnections();
    await new Promise((r) => drip.close(r));
  }
  const big = await answering(() => [200, `${t!.server}\n${'#'.repeat(300)}`]);
  try {
    t = fakeTree(`${big.origin}/pre`, true);
    const problem = (await waitForConfig(t.tree, undefined, 600))?.problem;
    assert.match(problem ?? '', /answered an answer larger than the 256 bytes an id takes, not the id/);
    assert.not.match(problem ?? '', /another config's id/);
  } finally {
    await big.close();
  }
});

test('a `.harvgen/config` that drips the new id is silent after 3 s, and says it dripped (not a stale config, not settled)', async () => {
  let t: ReturnType<typeof fakeTree> | undefined;
  // The headers at once, then the right id a byte every 200 ms: no ask is answered whole in time.
  const drip = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '65' });
    const body = `${t!.server}\n`;
    let i = 0;
    const timer = setInterval(() => (i < body.length && !res.destroyed ? res.write(body[i++]!) : clearInterval(timer)), 200);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => drip.listen(0, '127.0.0.1', r));
  try {
    t = fakeTree(`http://127.0.0.1:${(drip.address() as AddressInfo).port}/pre`, true);
    const started = performance.now();
    const wait = await waitForConfig(t.tree, undefined, 20_000);
    assert.ok(performance.now() - started < 7000, 'the wait ends after the first asks, not at the budget');
    assert.is(wait?.kind, 'silent', JSON.stringify(wait));
    assert.match(
      wait!.problem,
      /^VERIFY_CONFIG_SILENT: http:\/\/127\.0\.0\.1:\d+\/pre\/\.harvgen\/config dripped its answer: \d+ bytes in \d+(\.\d)? s and never a whole one/,
    );
  } finally {
    drip.closeAllConnections();
    await new Promise((r) => drip.close(r));
  }
});

test('a server that answers the new id, and endless bodies for everything else: the verdict is recorded (no more failures than checks)', async () => {
  const { base, reg, config } = await publishedSite();
  const server = http.createServer((req, res) => {
    if (req.url === '/.harvgen/config') {
      res.end(`${configIdOf(readFileSync(join(base, 'srv/location_y/nginx/harvgen.conf'), 'utf8'))}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(65536, 65);
    const more = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await pull({ config, source: (c) => reg.sink(c.repository), verifyUrl: url, configWaitMs: 5000 });
    assert.is(r.action, 'switched', JSON.stringify(r.diagnostics));
    assert.is(r.verdict?.ok, false);
    assert.ok(r.verdict!.failed > 0 && r.verdict!.failed <= r.verdict!.checks, JSON.stringify(r.verdict));
    assert.match(r.diagnostics[0]!.message, /does not serve .* as built: \d+ of \d+ checks failed/);
    const state = JSON.parse(readFileSync(join(base, 'state/state.json'), 'utf8'));
    assert.is(state.verdict.ok, false);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('a port where nothing ever listens is asked for 15 s, not the whole budget: verify reports it unreachable', async () => {
  const { reg, config } = await publishedSite();
  // A port nothing listens on: taken, then let go.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const started = performance.now();
  const r = await pull({ config, source: (c) => reg.sink(c.repository), verifyUrl: `http://127.0.0.1:${port}`, configWaitMs: 60_000 });
  assert.ok(performance.now() - started < 30_000, 'waited the whole budget');
  assert.is(r.ok, false);
  assert.match(r.verdict?.problems?.[0] ?? '', /^VERIFY_UNREACHABLE: /);
});

test.run();
