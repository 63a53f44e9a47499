// A real nginx around the version store's switch (src/pull/nginx.ts, src/pull/store.ts):
// `nginx -t` against a good and a broken tree (nginx's own message comes back, the tree is not
// rewritten), and a running nginx that serves the store's link: a new version with a new
// location is tested beside the running server (its listen address in use), switched to and
// reloaded; a broken one is refused and the old one stays served. And a whole `harvgen pull`
// against nginx behind a proxy that answers everything but hangs or drips `.harvgen/config`: the
// verdict fails, VERIFY_CONFIG_SILENT says which (through the same proxy passing it, it is ok).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { requireProgram } from './helpers/programs.ts';
import { startDaemon, waitFor, type Daemon } from './helpers/proc.ts';
import { httpGet, freePort } from './helpers/http.ts';
import { tempDir } from '../helpers/tmp.ts';
import { hashTree } from '../helpers/pull-store.ts';
import { NginxError, nginxCheck, nginxReload } from '../../src/pull/nginx.ts';
import { VersionStore } from '../../src/pull/store.ts';
import { pull } from '../../src/pull/index.ts';
import { publish } from '../../src/publish/index.ts';
import { fakeReleases, MemoryRegistry, publishedRepo } from '../helpers/publish.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pull-store');

async function rejectsNginx(p: Promise<unknown>, re: RegExp): Promise<NginxError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, NginxError, String(e));
    assert.match((e as Error).message, re);
    return e as NginxError;
  }
  throw new Error(`expected an NginxError matching ${re}`);
}

test('nginxCheck accepts a good tree (server block and shared-server locations), rewriting nothing', async () => {
  if (!requireProgram('nginx')) return;
  const dir = path.join(FIXTURES, 'nginx-good');
  const before = hashTree(dir);
  const tmp = tempDir('pull-nginx-good');
  await nginxCheck(dir, 'pull_site', { tmpDir: tmp });
  await nginxCheck(dir, 'pull_site', { tmpDir: tmp, include: 'locations' });
  assert.equal(hashTree(dir), before, 'the tree is not rewritten');
  assert.equal(readdirSync(tmp), [], 'the temp config is removed');
});

test("nginxCheck rejects a broken tree with nginx's own message (file and line)", async () => {
  if (!requireProgram('nginx')) return;
  const dir = path.join(FIXTURES, 'nginx-broken');
  const tmp = tempDir('pull-nginx-broken');
  const e = await rejectsNginx(
    nginxCheck(dir, 'pull_site', { tmpDir: tmp }),
    /^site pull_site: nginx rejects the new tree's config .*; not switching\. nginx -t -c .*: exit 1:\n.*unknown directive "harvgen_no_such_directive" in .*nginx-broken\/nginx\/harvgen\.conf:7/s,
  );
  assert.match(e.output, /test failed/);
  assert.equal(readdirSync(tmp), []);
});

function writeVersionTree(dir: string, o: { seed: string; port: number; root: string; extra?: string; broken?: boolean }): void {
  mkdirSync(path.join(dir, 'nginx'), { recursive: true });
  writeFileSync(path.join(dir, 'boot.ipxe'), `#!ipxe\necho version ${o.seed}\n`);
  writeFileSync(
    path.join(dir, 'nginx/harvgen.conf'),
    [
      'server {',
      `    listen 127.0.0.1:${o.port};`,
      `    root ${o.root};`,
      '    access_log off;',
      '    location = /boot.ipxe { types { } default_type text/plain; }',
      o.extra ?? '',
      o.broken ? '    location = /x { no_such_directive; }' : '',
      '}',
      '',
    ].join('\n'),
  );
}

test('a running nginx serves the link: a new version is tested beside it, switched to and reloaded; a broken one is refused', async () => {
  if (!requireProgram('nginx')) return;
  const base = tempDir('pull-nginx-live');
  chmodSync(base, 0o755); // nginx's workers (nobody when run as root) read the tree
  const stateDir = path.join(base, 'state');
  const root = path.join(base, 'srv', 'pull_site');
  const prefix = path.join(base, 'nginx');
  mkdirSync(prefix);
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/error.log;`,
      'events {}',
      `http { access_log off; include ${root}/nginx/harvgen.conf; }`,
      '',
    ].join('\n'),
  );
  const store = new VersionStore({ stateDir, root, site: 'pull_site' });
  store.recover();
  const check = (dir: string) => nginxCheck(dir, 'pull_site');
  const reload = () => nginxReload(['nginx', '-c', conf, '-p', prefix + '/', '-s', 'reload']);
  const pull = async (
    hex: string,
    o: { seed: string; extra?: string; broken?: boolean },
    hooks: { reload: () => Promise<void> | void },
  ) => {
    writeVersionTree(store.stage(hex), { ...o, port, root });
    store.commit(hex);
    await store.switchTo(hex, {}, { check, reload: hooks.reload });
  };
  const get = (p: string) => httpGet({ host: '127.0.0.1', port, path: p });

  await pull('1'.repeat(64), { seed: 'one' }, { reload: () => undefined });
  let nginx: Daemon | undefined;
  try {
    nginx = startDaemon('nginx', ['nginx', '-c', conf, '-p', prefix + '/', '-g', 'daemon off;']);
    const up = await waitFor(
      () =>
        get('/boot.ipxe').then(
          (r) => r.status === 200 && r.body.toString().includes('version one'),
          () => false,
        ),
      10_000,
    );
    assert.ok(up, `nginx did not serve version one:\n${nginx.output()}`);
    assert.is((await get('/v2-only')).status, 404);

    // The new version's check binds 127.0.0.1:<port>, which the running nginx holds: accepted.
    await pull('2'.repeat(64), { seed: 'two', extra: '    location = /v2-only { return 200 "v2\\n"; }' }, { reload });
    const reloaded = await waitFor(
      () =>
        get('/v2-only').then(
          (r) => r.status === 200,
          () => false,
        ),
      10_000,
    );
    assert.ok(reloaded, `the reload did not apply the new config:\n${nginx.output()}`);
    assert.match((await get('/boot.ipxe')).body.toString(), /version two/);
    assert.is(store.state()?.reloaded, true);

    const before = store.state();
    const e = await rejectsNginx(
      pull('3'.repeat(64), { seed: 'three', broken: true }, { reload }),
      /unknown directive "no_such_directive"/,
    );
    assert.match(e.message, /not switching/);
    assert.equal(store.state(), before, 'state.json unchanged');
    assert.is(store.servedHex(), '2'.repeat(64));
    assert.match((await get('/boot.ipxe')).body.toString(), /version two/);
    assert.ok(store.has('3'.repeat(64)), 'the refused version is kept (prune removes it first)');
  } finally {
    await nginx?.stop();
  }
});

/**
 * A TCP proxy to `upstream` that looks at each connection's first request: `.harvgen/config` is
 * hung (never answered) or dripped (the headers, then a byte a second), or passed like the rest.
 */
async function configProxy(upstream: number, mode: 'pass' | 'hang' | 'drip') {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.once('data', (first) => {
      if (mode !== 'pass' && first.toString('latin1').startsWith('GET /.harvgen/config ')) {
        if (mode === 'drip') {
          client.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 65\r\n\r\n');
          const t = setInterval(() => client.write('0'), 1000);
          timers.add(t);
          client.on('close', () => clearInterval(t));
        }
        return;
      }
      const up = net.connect(upstream, '127.0.0.1');
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      up.on('error', () => client.destroy());
      up.write(first);
      client.pipe(up).pipe(client);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** location_y published (memory registry), nginx running the boot server's config, and a pull of it through a proxy in `mode`. */
async function pullBehindProxy(mode: 'pass' | 'hang' | 'drip') {
  const base = tempDir(`pull-nginx-${mode}`);
  chmodSync(base, 0o755); // nginx's workers (nobody when run as root) read the tree
  const port = await freePort();
  const prefix = path.join(base, 'nginx');
  mkdirSync(prefix);
  const main = path.join(prefix, 'nginx.conf');
  // The site's config is included from the served tree (a glob: nginx starts before the first pull).
  writeFileSync(
    main,
    `pid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents {}\nhttp {\n    include ${base}/srv/location_y/nginx/harvgen.con[f];\n    server { listen 127.0.0.1:${await freePort()}; location / { return 404; } }\n}\n`,
  );
  const nginxArgs = ['nginx', '-p', `${prefix}/`, '-c', main];
  // The reload returns once nginx listens on the site's port. `nginx -s reload` returns before
  // nginx has read the new config, and this is nginx's first config with the site: on a loaded
  // machine its port opened more than 5 s later. pull asks a port that refuses for 15 s, but the
  // proxy takes each connection and resets it when nginx refuses, and pull takes a server that
  // resets every connection for 3 s for one that is down. These tests judge a proxy in front of
  // a server that is up.
  const reload = `${nginxArgs.join(' ')} -s reload || exit 1; for i in $(seq 200); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:${port}/ && exit 0; sleep 0.1; done`;
  const repo = publishedRepo('registry.example.net/harvgen', {
    label: `pull-nginx-${mode}`,
    bootServer: { base, nginxTest: ['nginx', '-t'], nginxReload: ['sh', '-c', reload] },
  });
  // nginx listens on a free local port (the site's boot server address is no address of this machine).
  const yaml = path.join(repo.site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/\nnginx:\n/, `\nnginx:\n  listen: 127.0.0.1:${port}\n`));
  repo.commit('listen on a local port');
  const reg = new MemoryRegistry();
  const config = await repo.pullConfig(base);
  const releases = fakeReleases(tempDir('pull-nginx-releases'));
  const p = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null, releasesDir: releases });
  assert.ok(p.sites[0]?.digest !== undefined, JSON.stringify(p.diagnostics));
  const nginx = startDaemon('nginx', [...nginxArgs, '-g', 'daemon off;']);
  const proxy = await configProxy(port, mode);
  try {
    await waitFor(() => nginx.output().length > 0 || readdirSync(prefix).includes('nginx.pid'), 10_000);
    const started = performance.now();
    const r = await pull({ config, source: (c) => reg.sink(c.repository), verifyUrl: proxy.url });
    return { r, ms: performance.now() - started, nginx: nginx.output() };
  } finally {
    await proxy.close();
    await nginx.stop();
  }
}

test('pull through a proxy that passes everything to nginx: verify ok (the judge of the two below)', async () => {
  if (!requireProgram('nginx', 'curl')) return;
  const { r, nginx } = await pullBehindProxy('pass');
  assert.is(r.action, 'switched', JSON.stringify(r.diagnostics));
  assert.ok(r.verdict?.ok, `${JSON.stringify(r.verdict)}\n${nginx}`);
  assert.ok(r.verdict!.checks > 20, JSON.stringify(r.verdict));
});

test('pull through a proxy that hangs only .harvgen/config: the verdict fails with VERIFY_CONFIG_SILENT (no answer), although nginx answers every other check', async () => {
  if (!requireProgram('nginx', 'curl')) return;
  const { r, ms } = await pullBehindProxy('hang');
  assert.is(r.action, 'switched', JSON.stringify(r.diagnostics));
  assert.is(r.verdict?.ok, false, JSON.stringify(r.verdict));
  assert.is(r.verdict?.failed, 1, JSON.stringify(r.verdict));
  assert.match(
    r.verdict?.problems?.[0] ?? '',
    /^VERIFY_CONFIG_SILENT: http:\/\/127\.0\.0\.1:\d+\/\.harvgen\/config gave no answer: not a byte in \d+(\.\d)? s/,
  );
  assert.is(r.diagnostics[0]?.code, 'PULL_FAILED');
  assert.match(r.diagnostics[0]!.message, /is switched to, but which nginx config answers is not known: .*gave no answer/);
  assert.ok(ms < 60_000, `${ms} ms`);
});

test('pull through a proxy that drips only .harvgen/config: the verdict fails with VERIFY_CONFIG_SILENT and says it dripped', async () => {
  if (!requireProgram('nginx', 'curl')) return;
  const { r } = await pullBehindProxy('drip');
  assert.is(r.verdict?.ok, false, JSON.stringify(r.verdict));
  assert.is(r.verdict?.failed, 1, JSON.stringify(r.verdict));
  assert.match(
    r.verdict?.problems?.[0] ?? '',
    /^VERIFY_CONFIG_SILENT: http:\/\/127\.0\.0\.1:\d+\/\.harvgen\/config dripped its answer: \d+ bytes in \d+(\.\d)? s and never a whole one/,
  );
  assert.match(r.diagnostics[0]!.message, /dripped its answer/);
});

test('nginxReload passes on the command stderr; a missing command is named', async () => {
  await rejectsNginx(
    nginxReload(['sh', '-c', 'echo "nginx: [error] invalid PID number" >&2; exit 1']),
    /nginx reload failed .*exit 1:\nnginx: \[error\] invalid PID number/s,
  );
  await rejectsNginx(nginxReload(['/nonexistent/nginx', '-s', 'reload']), /command not found: \/nonexistent\/nginx/);
  await rejectsNginx(nginxReload([]), /nginx_reload must be a non-empty list/);
  await rejectsNginx(nginxReload(['sleep', '10'], 300), /killed after 300 ms/);
  await nginxReload(['true']);
});

test('nginxCheck refuses a tree without its nginx config before running anything', async () => {
  const dir = tempDir('pull-nginx-empty');
  await rejectsNginx(nginxCheck(dir, 'pull_site', { command: ['/nonexistent/nginx', '-t'] }), /the new tree has no nginx\/harvgen\.conf/);
});

test.run();
