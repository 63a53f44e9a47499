// Which nginx config a boot server runs: a published site's nginx config answers
// `.harvgen/config` with its own id, and `harvgen pull` waits for the new tree's id after a reload
// before it verifies (nginx -s reload returns before nginx has read the new config, and its old
// workers answer new connections meanwhile: test/real/fleet.test.ts fetches right after a pull).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/pipeline.ts';
import { publish } from '../src/publish/index.ts';
import { pull } from '../src/pull/index.ts';
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
    const { writeFileSync } = await import('node:fs');
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

test('a site without publish: has no .harvgen/config location', () => {
  const text = readFileSync(join(import.meta.dirname, '../out/location_x/nginx/harvgen.conf'), 'utf8');
  assert.not.ok(text.includes('.harvgen/config'));
  assert.is(configIdOf(text), undefined);
});

/**
 * A published site pulled with verify on, its "boot server" a Node server: `.harvgen/config`
 * answers `answer(n, newId)` to its n-th request (`newId()`: the id of the config pull switched to),
 * every other path 404. The result, and the paths asked in order.
 */
async function pullAgainst(answer: (n: number, newId: () => string) => string, configWaitMs: number) {
  const base = tempDir('pull-config');
  const repo = publishedRepo('registry.example.net/harvgen', { bootServer: { base } });
  const reg = new MemoryRegistry();
  const config = await repo.pullConfig(base);
  const p = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null });
  assert.ok(p.sites[0]?.digest !== undefined, JSON.stringify(p.diagnostics));
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
    /^VERIFY_STALE_CONFIG: http:\/\/127\.0\.0\.1:\d+\/\.harvgen\/config answered another config's id \("1{64}"\), not the id of the served tree's nginx\/harvgen\.conf \([0-9a-f]{64}\), 0\.7 s after the reload/,
  );
  assert.is(r.diagnostics[0]?.code, 'PULL_FAILED');
  assert.match(r.diagnostics[0]!.message, /is switched to, but nginx does not run its config/);
  assert.match(r.diagnostics[0]!.hint ?? '', /nginx_reload/);
});

test('a server that does not answer at all is not waited for: verify reports it unreachable', async () => {
  const base = tempDir('pull-config');
  const repo = publishedRepo('registry.example.net/harvgen', { bootServer: { base } });
  const reg = new MemoryRegistry();
  const config = await repo.pullConfig(base);
  await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null });
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
