// The OCI client against a hostile registry (test/helpers/hostile-registry.ts): credentials never
// go to a token realm in cleartext, a realm on another host is warned about, a registry that drips
// its answer is cut off at the request's deadline and at the run's, and a blob larger than allowed
// is called larger, one shorter than its length cut short.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry, RegistryError, type RegistryOptions } from '../src/oci/index.ts';
import { digestOf, startHostileRegistry, type HostileRegistry } from './helpers/hostile-registry.ts';

const creds = { username: 'u', password: 'cleartext-secret-pw', source: 'the test' };

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.instance(e, RegistryError, String(e));
  return e as RegistryError;
}

async function withClient<T>(reg: HostileRegistry, options: Partial<RegistryOptions>, f: (c: Registry) => Promise<T>): Promise<T> {
  const c = new Registry({
    registry: reg.host,
    credentials: null,
    timeoutMs: 5000,
    ...(reg.certDir ? { certDir: reg.certDir } : { insecure: true }),
    ...options,
  });
  try {
    return await f(c);
  } finally {
    c.close();
  }
}

test('an HTTPS registry whose Bearer realm is plain HTTP on another host: the token service receives nothing', async () => {
  const tokens = await startHostileRegistry({ address: '127.0.0.2' });
  const reg = await startHostileRegistry({ tls: true });
  try {
    tokens.on('/token', { kind: 'token', token: 'T' });
    reg.on('/v2/', { kind: 'bearer', realm: `http://${tokens.host}/token`, service: 'reg', accept: 'Bearer T' });
    const e = await withClient(reg, { credentials: creds }, (c) => failure(c.ping()));
    assert.is(e.kind, 'auth');
    assert.match(e.message, `http://${tokens.host}/token`);
    assert.match(e.message, 'not HTTPS');
    assert.not.match(e.message, creds.password);
    assert.is(tokens.requests.length, 0, 'no request at all reached the cleartext token service');
    assert.is(reg.requests.length, 1);
    // Anonymous too: a token fetched in cleartext is as good as stolen.
    const anon = await withClient(reg, {}, (c) => failure(c.ping()));
    assert.is(anon.kind, 'auth');
    assert.is(tokens.requests.length, 0);
  } finally {
    await reg.close();
    await tokens.close();
  }
});

test('a Bearer realm on another host than the registry is used, and warned about (once)', async () => {
  const tokens = await startHostileRegistry({ address: '127.0.0.2' });
  const reg = await startHostileRegistry();
  try {
    tokens.on('/token', { kind: 'token', token: 'T' });
    reg.on(/^\/v2\//, { kind: 'bearer', realm: `http://${tokens.host}/token`, service: 'reg', accept: 'Bearer T' });
    const heard: string[] = [];
    const warnings = await withClient(reg, { credentials: creds, onWarning: (m) => heard.push(m) }, async (c) => {
      await c.ping();
      assert.not.ok(await c.hasBlob('a/b', digestOf('x')));
      return c.warnings;
    });
    assert.is(tokens.requests.length, 2, 'the plain-HTTP realm is allowed to a plain-HTTP (--insecure) registry');
    assert.is(tokens.requests[0]!.headers.authorization, `Basic ${Buffer.from(`u:${creds.password}`).toString('base64')}`);
    assert.equal(heard, warnings);
    assert.is(heard.length, 1, heard.join('\n'));
    assert.match(heard[0]!, tokens.host);
    assert.match(heard[0]!, reg.host);
    assert.not.match(heard[0]!, creds.password);
  } finally {
    await reg.close();
    await tokens.close();
  }
});

test('a registry that drips its answer is cut off at the request deadline, body included', async () => {
  const reg = await startHostileRegistry();
  try {
    const body = 'x'.repeat(60);
    const digest = digestOf(body);
    reg.on(`/v2/a/b/blobs/${digest}`, { kind: 'drip', body, everyMs: 200 });
    reg.on('/v2/a/b/manifests/t', { kind: 'drip', body, everyMs: 200 });
    await withClient(reg, { requestTimeoutMs: 800 }, async (c) => {
      for (const op of [() => c.getBlob('a/b', digest), () => c.getManifest('a/b', 't', ['application/json'])]) {
        const t = Date.now();
        const e = await failure(op());
        const took = Date.now() - t;
        assert.is(e.kind, 'timeout', e.message);
        assert.match(e.message, reg.host);
        assert.match(e.message, '800 ms');
        assert.ok(took >= 700 && took < 3000, `${took} ms`);
      }
    });
  } finally {
    await reg.close();
  }
});

test("a run's deadline and its AbortSignal stop a dripping download", async () => {
  const reg = await startHostileRegistry();
  try {
    const body = 'y'.repeat(60);
    const digest = digestOf(body);
    reg.on(`/v2/a/b/blobs/${digest}`, { kind: 'drip', body, everyMs: 200 });
    const t = Date.now();
    const e = await withClient(reg, { deadline: Date.now() + 700 }, (c) => failure(c.getBlob('a/b', digest)));
    assert.is(e.kind, 'timeout', e.message);
    assert.match(e.message, reg.host);
    assert.match(e.message, /the run's deadline/);
    assert.ok(Date.now() - t < 3000);
    // A deadline already past fails before any request.
    const before = reg.requests.length;
    const past = await withClient(reg, { deadline: Date.now() - 1 }, (c) => failure(c.ping()));
    assert.is(past.kind, 'timeout');
    assert.is(reg.requests.length, before);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const aborted = await withClient(reg, { signal: ac.signal }, (c) => failure(c.getBlob('a/b', digest)));
    assert.is(aborted.kind, 'timeout', aborted.message);
    assert.match(aborted.message, 'stopped');
  } finally {
    await reg.close();
  }
});

test('a blob longer than its size or maxBytes is called larger, with the numbers; a body shorter than its length is cut short', async () => {
  const reg = await startHostileRegistry();
  try {
    const good = 'the real blob\n';
    const digest = digestOf(good);
    await withClient(reg, {}, async (c) => {
      reg.on(`/v2/a/b/blobs/${digest}`, { kind: 'bytes', body: good + 'and more' });
      const bySize = await failure(c.getBlob('a/b', digest, { size: good.length } as never));
      assert.is(bySize.kind, 'size', bySize.message);
      assert.match(bySize.message, `larger than its ${good.length} bytes`);
      assert.not.match(bySize.message, 'cut short');
      reg.on(`/v2/a/b/blobs/${digest}`, { kind: 'endless', chunk: 1000 });
      const endless = await failure(c.getBlob('a/b', digest, { maxBytes: 4096 }));
      assert.is(endless.kind, 'size', endless.message);
      assert.match(endless.message, 'larger than the 4096 bytes allowed');
      const streamed = await failure(
        c.openBlob('a/b', digest, { size: 50 }).then(async (s) => {
          for await (const _ of s);
        }),
      );
      assert.is(streamed.kind, 'size', streamed.message);
      assert.match(streamed.message, 'larger than its 50 bytes');
      reg.on(`/v2/a/b/blobs/${digest}`, { kind: 'short', body: good.slice(0, 5), declared: good.length });
      const short = await failure(c.getBlob('a/b', digest));
      assert.match(short.message, `cut short after 5 of ${good.length} bytes`);
      reg.on(`/v2/a/b/blobs/${digest}`, { kind: 'bytes', body: good.slice(0, 5) });
      const fewer = await failure(c.getBlob('a/b', digest, { size: good.length } as never));
      assert.is(fewer.kind, 'size', fewer.message);
      assert.match(fewer.message, `cut short: 5 of its ${good.length} bytes`);
    });
  } finally {
    await reg.close();
  }
});

test.run();
