// The OCI library without a real registry (test/real/oci-registry.test.ts has Distribution and
// skopeo): references, good and bad; the credential sources in their order and formats, a
// credential helper, no password in any message; the client against tiny fake registries on
// 127.0.0.1 (getBlob's digest and size checks, Basic and the Bearer token flow with its cache,
// uploads with relative and absolute Locations, a HEAD answer frees its socket); layouts written
// and read back; archives: the same layout gives the same bytes, and a hostile archive is refused.
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AuthError,
  authFilePaths,
  copyArtifact,
  findCredentials,
  layoutStore,
  manifestDescriptor,
  OciLayout,
  OciRefError,
  parseChallenge,
  parseRef,
  readArchive,
  Registry,
  RegistryError,
  sha256Digest,
  walk,
  writeArchive,
} from '../src/oci/index.ts';
import { tempDir } from './helpers/tmp.ts';

// --- references -------------------------------------------------------------------------------

test('parseRef accepts the forms of the distribution grammar', () => {
  const hex = 'a'.repeat(64);
  const cases: [string, Record<string, unknown>][] = [
    [
      'registry.example.net/harvgen/location_x:location_x',
      { registry: 'registry.example.net', host: 'registry.example.net', repository: 'harvgen/location_x', tag: 'location_x' },
    ],
    ['127.0.0.1:5000/a/b', { registry: '127.0.0.1:5000', host: '127.0.0.1', port: 5000, repository: 'a/b' }],
    [`reg:443/ns/site@sha256:${hex}`, { registry: 'reg:443', host: 'reg', port: 443, repository: 'ns/site', digest: `sha256:${hex}` }],
    [`reg/ns/site:v1.4.1@sha256:${hex}`, { registry: 'reg', host: 'reg', repository: 'ns/site', tag: 'v1.4.1', digest: `sha256:${hex}` }],
    [
      '[::1]:5000/a__b/c-d/e.f--g:_T.a-g',
      { registry: '[::1]:5000', host: '::1', port: 5000, repository: 'a__b/c-d/e.f--g', tag: '_T.a-g' },
    ],
    ['localhost/x', { registry: 'localhost', host: 'localhost', repository: 'x' }],
  ];
  for (const [text, want] of cases) assert.equal({ ...parseRef(text) }, want, text);
});

test('parseRef refuses bad references with a message that says what is wrong', () => {
  const cases: [string, string][] = [
    ['', 'empty'],
    ['harvgen', 'names no repository'],
    ['https://reg/a', 'without a scheme'],
    ['reg/A', 'repository component "A"'],
    ['reg/a//b', 'empty path component'],
    ['reg/a-', 'repository component "a-"'],
    ['reg/a_.b', 'repository component'],
    ['reg/a:-bad', 'tag "-bad"'],
    [`reg/a:${'t'.repeat(129)}`, 'tag'],
    ['reg/a@sha256:abc', 'not sha256:<64 lowercase hex digits>'],
    [`reg/a@sha512:${'a'.repeat(128)}`, 'only sha256'],
    [`reg/a@sha256:${'A'.repeat(64)}`, 'lowercase'],
    ['reg:0/a', 'port "0"'],
    ['reg:99999/a', 'port'],
    ['re_g/a', 'not a host name'],
    ['reg /a', 'white space'],
    [`reg/${'a'.repeat(256)}`, 'at most 255'],
  ];
  for (const [text, why] of cases) {
    const err = (() => {
      try {
        parseRef(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.instance(err, OciRefError, text);
    assert.match((err as Error).message, why, text);
  }
  assert.throws(() => parseRef('reg/a:tag', { repositoryOnly: true }), /without a tag/);
  assert.throws(() => parseRef('reg/a', { requireReference: true }), /neither a tag nor a digest/);
});

// --- credentials ------------------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s).toString('base64');
function writeJson(file: string, v: unknown): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(v));
  return file;
}

test('auth files are read in the documented order; the first with an entry wins', async () => {
  const home = tempDir('oci-home');
  const run = path.join(home, 'run');
  const reg = 'reg.example:5000';
  const files = {
    explicit: path.join(home, 'explicit.json'),
    xdg: path.join(run, 'containers', 'auth.json'),
    config: path.join(home, '.config', 'containers', 'auth.json'),
    docker: path.join(home, '.docker', 'config.json'),
    dockerConfig: path.join(home, 'dc', 'config.json'),
  };
  for (const [name, file] of Object.entries(files)) writeJson(file, { auths: { [reg]: { auth: b64(`${name}:pw-${name}`) } } });
  const env = { HOME: home, XDG_RUNTIME_DIR: run, REGISTRY_AUTH_FILE: files.explicit, DOCKER_CONFIG: path.join(home, 'dc') };
  assert.equal(authFilePaths(env), [files.explicit, files.xdg, files.config, files.dockerConfig]);
  assert.equal(authFilePaths({ HOME: home }), [files.config, files.docker]);
  const who = async (e: NodeJS.ProcessEnv) => (await findCredentials(reg, { env: e })).credentials?.username;
  assert.is(await who(env), 'explicit');
  assert.is(await who({ ...env, REGISTRY_AUTH_FILE: undefined }), 'xdg');
  assert.is(await who({ HOME: home }), 'config');
  writeJson(files.config, { auths: { 'other.example': { auth: b64('x:y') } } });
  assert.is(await who({ HOME: home }), 'docker', 'a file without an entry for the host is passed over');
  assert.is(await who({ HOME: home, DOCKER_CONFIG: path.join(home, 'dc') }), 'dockerConfig');
  // The environment wins when both are set, and only then.
  assert.is(await who({ ...env, HARVGEN_REGISTRY_USERNAME: 'envuser', HARVGEN_REGISTRY_PASSWORD: 'envpw' }), 'envuser');
  assert.is(await who({ ...env, HARVGEN_REGISTRY_USERNAME: 'envuser' }), 'explicit');
  const found = await findCredentials(reg, { env });
  assert.is(found.credentials?.password, 'pw-explicit');
  assert.match(found.credentials!.source, files.explicit);
  assert.not.match(found.credentials!.source, 'pw-');
  // Nothing found: what was tried.
  const none = await findCredentials('nowhere.example', { env });
  assert.is(none.credentials, undefined);
  assert.equal(none.tried, [
    'HARVGEN_REGISTRY_USERNAME/HARVGEN_REGISTRY_PASSWORD',
    files.explicit,
    files.xdg,
    files.config,
    files.dockerConfig,
  ]);
});

test('auth entries: scheme-prefixed keys, username/password fields, per-repository keys before the host', async () => {
  const home = tempDir('oci-home2');
  const file = writeJson(path.join(home, 'auth.json'), {
    auths: {
      'https://reg.example/v1/': { auth: b64('host:pw1') },
      'reg.example/harvgen': { username: 'project', password: 'pw2' },
      'reg.example/harvgen/location_x': { auth: b64('robot$site:pw:with:colons') },
    },
  });
  const env = { REGISTRY_AUTH_FILE: file };
  const get = async (repository?: string) => (await findCredentials('reg.example', { env, repository })).credentials;
  assert.equal([(await get())?.username, (await get())?.password], ['host', 'pw1']);
  assert.is((await get('harvgen/location_y'))?.username, 'project');
  const robot = await get('harvgen/location_x');
  assert.equal([robot?.username, robot?.password], ['robot$site', 'pw:with:colons']);
});

test('a credential helper gets the host on stdin (never a password on argv); credsStore; its failures are clear', async () => {
  const dir = tempDir('oci-helper');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const log = path.join(dir, 'log');
  writeFileSync(
    path.join(bin, 'docker-credential-fake'),
    `#!/bin/sh\nhost=$(cat)\necho "$* $host" >> ${log}\nif [ "$host" = missing.example ]; then echo "credentials not found in native keychain"; exit 1; fi\nif [ "$host" = broken.example ]; then echo "boom" >&2; exit 3; fi\nprintf '{"ServerURL":"%s","Username":"helperuser","Secret":"helper-secret"}' "$host"\n`,
  );
  chmodSync(path.join(bin, 'docker-credential-fake'), 0o755);
  const file = writeJson(path.join(dir, 'config.json'), {
    credHelpers: { 'reg.example': 'fake' },
    credsStore: 'fake',
    auths: { 'reg.example': { auth: b64('not:used') } },
  });
  const env = { REGISTRY_AUTH_FILE: file, PATH: `${bin}:${process.env.PATH}` };
  const c = (await findCredentials('reg.example', { env })).credentials;
  assert.equal([c?.username, c?.password], ['helperuser', 'helper-secret'], 'credHelpers before auths');
  assert.match(c!.source, 'credHelpers');
  const s = (await findCredentials('store.example', { env })).credentials;
  assert.is(s?.username, 'helperuser');
  assert.match(s!.source, 'credsStore');
  assert.is((await findCredentials('missing.example', { env })).credentials, undefined, '"credentials not found" is no credentials');
  const broken = await findCredentials('broken.example', { env }).catch((e: unknown) => e);
  assert.instance(broken, AuthError);
  assert.match((broken as Error).message, 'docker-credential-fake get failed (exit 3): boom');
  assert.equal(readFileSync(log, 'utf8').trim().split('\n'), [
    'get reg.example',
    'get store.example',
    'get missing.example',
    'get broken.example',
  ]);
  const absent = writeJson(path.join(dir, 'absent.json'), { credsStore: 'nosuchhelper' });
  const e = await findCredentials('x.example', { env: { REGISTRY_AUTH_FILE: absent, PATH: bin } }).catch((x: unknown) => x);
  assert.match((e as Error).message, 'docker-credential-nosuchhelper is not installed');
});

test('a broken auth file is an AuthError naming the file, never showing its secret', async () => {
  const dir = tempDir('oci-badauth');
  const notJson = path.join(dir, 'a.json');
  writeFileSync(notJson, '{"auths": {"reg": {"auth": "c2VjcmV0LXB3"');
  const e1 = (await findCredentials('reg', { env: { REGISTRY_AUTH_FILE: notJson } }).catch((e: unknown) => e)) as Error;
  assert.instance(e1, AuthError);
  assert.match(e1.message, notJson);
  const badB64 = writeJson(path.join(dir, 'b.json'), { auths: { reg: { auth: b64('no-colon-secret-pw') } } });
  const e2 = (await findCredentials('reg', { env: { REGISTRY_AUTH_FILE: badB64 } }).catch((e: unknown) => e)) as Error;
  assert.match(e2.message, 'not base64 of user:password');
  assert.not.match(e2.message, 'secret');
  assert.not.match(e2.message, b64('no-colon-secret-pw'));
});

// --- the client against fake registries -------------------------------------------------------

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;
async function fake(handler: Handler): Promise<{ host: string; close: () => Promise<void>; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, Buffer.concat(chunks), res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, seen, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

test('getBlob checks the SHA-256 while reading: a wrong byte is refused, so is a blob over maxBytes', async () => {
  const good = Buffer.from('the real blob\n');
  const digest = sha256Digest(good);
  let send = good;
  const srv = await fake((req, _b, res) => {
    if (req.url === `/v2/a/b/blobs/${digest}`) {
      res.writeHead(200, { 'content-length': send.length }).end(send);
    } else res.writeHead(404).end();
  });
  const c = new Registry({ registry: srv.host, insecure: true, credentials: null, timeoutMs: 5000 });
  try {
    assert.ok((await c.getBlob('a/b', digest)).equals(good));
    send = Buffer.from('the reaL blob\n');
    const e = (await c.getBlob('a/b', digest).catch((x: unknown) => x)) as RegistryError;
    assert.instance(e, RegistryError);
    assert.is(e.kind, 'digest');
    assert.match(e.message, `hash to ${sha256Digest(send)}; refused`);
    send = good;
    const big = (await c.getBlob('a/b', digest, { maxBytes: 5 }).catch((x: unknown) => x)) as RegistryError;
    assert.is(big.kind, 'size');
    const missing = (await c.getBlob('a/b', sha256Digest(Buffer.from('x'))).catch((x: unknown) => x)) as RegistryError;
    assert.is(missing.status, 404);
    assert.match(missing.message, 'not found');
  } finally {
    c.close();
    await srv.close();
  }
});

test('the Bearer flow: realm, service and scope asked for, the token cached per scope, Basic credentials sent to the realm only', async () => {
  let tokenRequests = 0;
  const password = 'bearer-secret-pw';
  const srv = await fake((req, _b, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      tokenRequests++;
      const ok = req.headers.authorization === `Basic ${b64(`u:${password}`)}`;
      if (!ok) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      assert.is(url.searchParams.get('service'), 'fake-registry');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: `tok:${url.searchParams.getAll('scope').join('|')}` }));
      return;
    }
    const want = url.pathname.startsWith('/v2/a/b/') ? 'tok:repository:a/b:pull' : 'tok:';
    if (req.headers.authorization !== `Bearer ${want}`) {
      const scope = url.pathname.startsWith('/v2/a/b/') ? ',scope="repository:a/b:pull"' : '';
      return void res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake-registry"${scope}`,
          'content-type': 'application/json',
        })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    assert.not.ok(JSON.stringify(req.headers).includes(b64(`u:${password}`)), 'the registry never sees the password');
    if (url.pathname === '/v2/') return void res.writeHead(200).end('{}');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
  });
  const c = new Registry({
    registry: srv.host,
    insecure: true,
    credentials: { username: 'u', password, source: 'the test' },
    timeoutMs: 5000,
  });
  try {
    await c.ping();
    assert.not.ok(await c.hasBlob('a/b', sha256Digest(Buffer.from('1'))));
    assert.not.ok(await c.hasBlob('a/b', sha256Digest(Buffer.from('2'))));
    assert.is(tokenRequests, 2, 'one token for the ping, one for repository:a/b:pull, reused');
    const wrong = new Registry({
      registry: srv.host,
      insecure: true,
      credentials: { username: 'u', password: 'wrong-pw-77', source: '/x/auth.json (auths["h"])' },
      timeoutMs: 5000,
    });
    const e = (await wrong.ping().catch((x: unknown) => x)) as RegistryError;
    wrong.close();
    assert.is(e.status, 401);
    assert.match(e.message, '/x/auth.json (auths["h"])');
    assert.match(e.message, 'user "u"');
    assert.not.match(e.message, 'wrong-pw-77');
    assert.not.match(e.url, 'wrong-pw-77');
  } finally {
    c.close();
    await srv.close();
  }
});

test('parseChallenge reads quoted and bare parameters', () => {
  assert.equal(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
  });
  assert.equal(parseChallenge('Basic realm=harvgen'), { scheme: 'basic', params: { realm: 'harvgen' } });
});

test('pushBlob: POST then PUT ?digest= at a relative or an absolute Location; skipped when present; counted', async () => {
  const stored = new Map<string, Buffer>();
  let absolute = false;
  const srv = await fake((req, body, res) => {
    const url = new URL(req.url!, 'http://x');
    const m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (req.method === 'HEAD' && m) return void res.writeHead(stored.has(m[2]!) ? 200 : 404).end();
    if (req.method === 'POST' && url.pathname === '/v2/a/b/blobs/uploads/') {
      const loc = `/v2/a/b/blobs/uploads/u1?_state=opaque`;
      return void res.writeHead(202, { location: absolute ? `http://${req.headers.host}${loc}` : loc }).end();
    }
    if (req.method === 'PUT' && url.pathname === '/v2/a/b/blobs/uploads/u1') {
      assert.is(url.searchParams.get('_state'), 'opaque', 'the Location query is kept');
      const d = url.searchParams.get('digest')!;
      if (sha256Digest(body) !== d) return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
      stored.set(d, body);
      return void res.writeHead(201, { location: `/v2/a/b/blobs/${d}` }).end();
    }
    res.writeHead(404).end();
  });
  const c = new Registry({ registry: srv.host, insecure: true, credentials: null, timeoutMs: 5000 });
  try {
    const one = Buffer.from('blob one');
    assert.is(await c.pushBlob('a/b', sha256Digest(one), one), 'uploaded');
    absolute = true;
    const two = Buffer.from('blob two!');
    assert.is(await c.pushBlob('a/b', sha256Digest(two), two), 'uploaded');
    assert.is(await c.pushBlob('a/b', sha256Digest(two), two), 'skipped');
    assert.equal(
      { ...c.counters },
      { requests: 7, bytesUploaded: one.length + two.length, blobsUploaded: 2, blobsSkipped: 1, blobsMounted: 0 },
    );
    const e = (await c.pushBlob('a/b', sha256Digest(Buffer.from('other')), one).catch((x: unknown) => x)) as RegistryError;
    assert.is(e.status, 400);
    assert.equal(e.codes, ['DIGEST_INVALID']);
  } finally {
    c.close();
    await srv.close();
  }
});

test('a HEAD answer frees its socket: more HEADs than sockets do not wait for the timeout', async () => {
  const srv = await fake((_req, _b, res) => void res.writeHead(404, { 'content-length': '19' }).end());
  const c = new Registry({ registry: srv.host, insecure: true, credentials: null, timeoutMs: 3000, maxSockets: 1 });
  try {
    const t = Date.now();
    for (let i = 0; i < 5; i++) assert.not.ok(await c.hasBlob('a/b', sha256Digest(Buffer.from(String(i)))));
    assert.ok(Date.now() - t < 2000, `${Date.now() - t} ms`);
  } finally {
    c.close();
    await srv.close();
  }
});

// --- layouts and archives ---------------------------------------------------------------------

async function sampleLayout(dir: string): Promise<{ layout: OciLayout; root: ReturnType<typeof manifestDescriptor> }> {
  const layout = await OciLayout.create(dir);
  const cfg = Buffer.from('{"part":"site"}');
  const file = Buffer.from('#!ipxe\n');
  await layout.writeBlob(cfg);
  await layout.writeBlob(file);
  const part = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.harvgen.part.v1',
      config: { mediaType: 'application/vnd.harvgen.part.v1+json', digest: sha256Digest(cfg), size: cfg.length },
      layers: [
        {
          mediaType: 'application/vnd.harvgen.file.v1',
          digest: sha256Digest(file),
          size: file.length,
          annotations: { 'org.opencontainers.image.title': 'boot.ipxe' },
        },
      ],
    }),
  );
  await layout.writeBlob(part);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(part), size: part.length }],
    }),
  );
  await layout.writeBlob(index);
  const root = manifestDescriptor(index);
  await layout.setRef('site', root);
  return { layout, root };
}

test('a layout written and read back: refs, blobs checked, walk and copy between layouts', async () => {
  const base = tempDir('oci-layout');
  const { layout, root } = await sampleLayout(path.join(base, 'a'));
  assert.equal(JSON.parse(readFileSync(path.join(base, 'a', 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const again = await OciLayout.open(path.join(base, 'a'));
  assert.equal(await again.resolve('site'), { ...root, annotations: { 'org.opencontainers.image.ref.name': 'site' } });
  const nodes = await walk(layoutStore(again), root);
  assert.is(nodes.length, 4);
  assert.is(nodes[nodes.length - 1]!.descriptor.digest, root.digest, 'children first, the root last');
  await layout.setRef('site', root);
  assert.is((await layout.index()).length, 1, 'setRef replaces an entry of that name');
  const dst = await OciLayout.create(path.join(base, 'b'));
  const r = await copyArtifact(layoutStore(layout), layoutStore(dst), root, { tags: ['copy'] });
  assert.equal([r.blobsCopied, r.manifestsWritten], [2, 2]);
  const r2 = await copyArtifact(layoutStore(layout), layoutStore(dst), root);
  assert.equal([r2.manifestsPresent, r2.blobs, r2.blobsCopied, r2.manifestsWritten], [1, 0, 0, 0], 'a present root is not walked into');
  const r3 = await copyArtifact(layoutStore(layout), layoutStore(dst), root, { full: true });
  assert.equal([r3.manifestsPresent, r3.blobsCopied, r3.blobsSkipped, r3.manifestsWritten], [0, 0, 2, 0], 'full: every node checked');
  // A blob changed on disk is refused when read.
  const victim = path.join(base, 'a', 'blobs', 'sha256', sha256Digest(Buffer.from('#!ipxe\n')).slice(7));
  writeFileSync(victim, '#!ipxE\n');
  const e = await layout.readBlob(sha256Digest(Buffer.from('#!ipxe\n'))).catch((x: unknown) => x);
  assert.match((e as Error).message, 'does not hash to its name');
});

test('archives: the same layout gives the same bytes (sorted, mtime 0, uid 0, no names), and read back', async () => {
  const base = tempDir('oci-archive');
  await sampleLayout(path.join(base, 'a'));
  await new Promise((r) => setTimeout(r, 20));
  const { root } = await sampleLayout(path.join(base, 'b'));
  const t1 = path.join(base, 'a.tar');
  const t2 = path.join(base, 'b.tar');
  await writeArchive(path.join(base, 'a'), t1);
  await writeArchive(path.join(base, 'b'), t2);
  const bytes = readFileSync(t1);
  assert.ok(bytes.equals(readFileSync(t2)), 'byte-identical archives');
  assert.is(bytes.length % 512, 0);
  // Entry names in order, every mtime/uid/gid zero, no user or group names.
  const names: string[] = [];
  for (let at = 0; at + 512 <= bytes.length;) {
    const h = bytes.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    names.push(h.toString('utf8', 0, 100).replace(/\0.*$/s, ''));
    assert.is(h.toString('ascii', 136, 147), '00000000000', 'mtime 0');
    assert.is(h.toString('ascii', 108, 115), '0000000', 'uid 0');
    assert.is(h.toString('ascii', 116, 123), '0000000', 'gid 0');
    assert.ok(
      h.subarray(265, 329).every((b) => b === 0),
      'no user or group names',
    );
    const size = parseInt(h.toString('ascii', 124, 135), 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  assert.equal(names, [...names].sort());
  assert.equal(names.slice(0, 2), ['blobs/', 'blobs/sha256/']);
  assert.equal(names.slice(-2), ['index.json', 'oci-layout']);
  const back = await readArchive(t1, path.join(base, 'back'));
  assert.is((await back.resolve('site')).digest, root.digest);
  assert.is((await walk(layoutStore(back), root)).length, 4);
});

test('a hostile or damaged archive is refused: a link, a path outside the layout, a blob that does not hash to its name', async () => {
  const base = tempDir('oci-hostile');
  await sampleLayout(path.join(base, 'a'));
  const good = path.join(base, 'good.tar');
  await writeArchive(path.join(base, 'a'), good);
  const bytes = readFileSync(good);
  // Rewrite the first header (blobs/) into something else, fixing its checksum.
  const withHeader = (edit: (h: Buffer) => void): string => {
    const copy = Buffer.from(bytes);
    const h = copy.subarray(0, 512);
    edit(h);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'binary');
    const f = path.join(base, `bad-${Math.random().toString(36).slice(2)}.tar`);
    writeFileSync(f, copy);
    return f;
  };
  const cases: [string, string][] = [
    [withHeader((h) => h.write('2', 156)), 'not a regular file'],
    [withHeader((h) => (h.fill(0, 0, 100), h.write('../escape', 0), h.write('0', 156))), 'unexpected entry "../escape"'],
    [withHeader((h) => (h.fill(0, 0, 100), h.write('blobs/other/', 0))), 'unexpected directory'],
  ];
  // A blob whose bytes were changed.
  const tampered = Buffer.from(bytes);
  const at = tampered.indexOf(Buffer.from('#!ipxe\n'));
  tampered.write('#!ipxE\n', at);
  const tf = path.join(base, 'tampered.tar');
  writeFileSync(tf, tampered);
  cases.push([tf, 'does not hash to its name']);
  const cut = path.join(base, 'cut.tar');
  writeFileSync(cut, bytes.subarray(0, 1024 + 100));
  cases.push([cut, 'cut short']);
  // Not a tar at all.
  const junk = path.join(base, 'junk.tar');
  writeFileSync(junk, Buffer.alloc(2048, 0x41));
  cases.push([junk, 'checksum']);
  for (const [file, why] of cases) {
    const out = path.join(base, `out-${Math.random().toString(36).slice(2)}`);
    const e = await readArchive(file, out).catch((x: unknown) => x);
    assert.instance(e, Error, file);
    assert.match((e as Error).message, why, `${file}: ${(e as Error).message}`);
    assert.not.ok(existsSync(out), 'nothing of a refused archive is kept');
  }
  const full = path.join(base, 'full');
  mkdirSync(full);
  writeFileSync(path.join(full, 'x'), '');
  assert.match(((await readArchive(good, full).catch((x: unknown) => x)) as Error).message, 'not empty');
  // A symbolic link in the layout is not followed into the archive's blob list (only regular names count).
  symlinkSync('/etc/passwd', path.join(base, 'a', 'blobs', 'sha256', 'not-a-digest'));
  const again = path.join(base, 'again.tar');
  await writeArchive(path.join(base, 'a'), again);
  assert.ok(readFileSync(again).equals(bytes), 'names that are not digests are left out');
});

test.run();
