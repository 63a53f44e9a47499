// Small building blocks: MAC normalization, IPv4 arithmetic, crypt, suggestions.
import { sharedShape } from '../src/util/shared-shape.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeMac, macToHyphen, isMulticastMac } from '../src/util/mac.ts';
import { parseCidr, parseIpv4, formatIpv4, maskToPrefix, networksOverlap } from '../src/util/ipv4.ts';
import { deriveSalt, isCryptHash, sha512Crypt } from '../src/util/sha512-crypt.ts';
import { closest } from '../src/util/suggest.ts';
import { keyJson } from '../src/util/key-json.ts';
import { assertNever } from '../src/util/assert-never.ts';

test('every common MAC spelling normalizes to lowercase colons', () => {
  for (const m of ['52:54:00:AA:BB:01', '52-54-00-aa-bb-01', '525400AABB01', '5254.00aa.bb01', ' 52:54:00:aa:bb:01 ']) {
    assert.is(normalizeMac(m), '52:54:00:aa:bb:01', m);
  }
  for (const m of ['52:54:00:aa:bb', '52:54-00:aa:bb:01', 'zz:54:00:aa:bb:01', '52:54:00:aa:bb:01:02'])
    assert.is(normalizeMac(m), undefined, m);
  assert.is(macToHyphen('52:54:00:aa:bb:01'), '52-54-00-aa-bb-01');
  assert.ok(isMulticastMac('01:00:5e:00:00:01'));
  assert.not.ok(isMulticastMac('52:54:00:00:00:01'));
});

test('IPv4 parsing accepts only canonical dotted quads', () => {
  assert.is(parseIpv4('192.168.122.1'), 0xc0a87a01);
  for (const bad of ['192.168.122.300', '192.168.122', '192.168.122.01', '1.2.3.4.5', 'a.b.c.d', ''])
    assert.is(parseIpv4(bad), undefined, bad);
  assert.is(formatIpv4(0xc0a87a01), '192.168.122.1');
  assert.is(maskToPrefix(parseIpv4('255.255.254.0')!), 23);
  assert.is(maskToPrefix(parseIpv4('255.0.255.0')!), undefined);
});

test('CIDRs must name the network address', () => {
  assert.is(parseCidr('10.0.0.0/24').net?.broadcast, parseIpv4('10.0.0.255'));
  assert.match(parseCidr('10.0.0.1/24').problem ?? '', /host bits/);
  assert.match(parseCidr('10.0.0.0/33').problem ?? '', /above 32/);
  assert.ok(networksOverlap(parseCidr('10.0.0.0/16').net!, parseCidr('10.0.5.0/24').net!));
  assert.not.ok(networksOverlap(parseCidr('10.52.0.0/16').net!, parseCidr('10.53.0.0/16').net!));
});

test('SHA-512 crypt matches the specification vectors', () => {
  assert.is(
    sha512Crypt('Hello world!', 'saltstring'),
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  );
  assert.is(
    sha512Crypt('Hello world!', 'saltstringsaltstring', 10000),
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  );
  assert.is(
    sha512Crypt('a very much longer text to encrypt.  This one even stretches over morethan one line.', 'anotherlongsaltstring', 1400),
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  );
});

test('derived salts are stable, 16 characters and differ per input', () => {
  assert.is(deriveSalt('site', 'hv-1'), deriveSalt('site', 'hv-1'));
  assert.is.not(deriveSalt('site', 'hv-1'), deriveSalt('site', 'hv-2'));
  assert.match(deriveSalt('x'), /^[./0-9A-Za-z]{16}$/);
  assert.ok(isCryptHash(sha512Crypt('pw', deriveSalt('x'))));
  assert.not.ok(isCryptHash('$6$short'));
  assert.not.ok(isCryptHash('$6$salt$has:colon'));
});

test('suggestions catch typos and spelling variants only', () => {
  assert.is(closest('hostnme', ['hostname', 'mac', 'ip']), 'hostname');
  assert.is(closest('dhcpRange', ['dhcp_range', 'dns']), 'dhcp_range');
  assert.is(closest('zzz', ['hostname', 'mac']), undefined);
});

test('assertNever throws, naming the value it was given', () => {
  assert.throws(() => assertNever('pxe' as never), /unexpected value: "pxe"/);
  assert.throws(() => assertNever({ boot: 'floppy' } as never, 'node kind'), /unexpected node kind: \{"boot":"floppy"\}/);
});

test('clonePlain copies plain data deeply and exactly, __proto__ as a property', async () => {
  const { clonePlain } = await import('../src/util/clone.ts');
  const shared = { a: [1, { b: -0 }] };
  const value = { x: shared, y: shared, n: null, f: Infinity, g: NaN, s: 'é', t: true, list: [[], {}], '1': 'one' };
  const copy = clonePlain(value);
  assert.equal(copy, value);
  assert.is(JSON.stringify(copy), JSON.stringify(value), 'same key order');
  assert.ok(Object.is(copy.x.a[1] && (copy.x.a[1] as { b: number }).b, -0), '-0 kept');
  assert.ok(Number.isNaN(copy.g));
  copy.x.a.push(2);
  assert.is(shared.a.length, 2, 'a deep copy: the original is untouched');
  const hostile = JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
  const c = clonePlain(hostile);
  assert.is(Object.getPrototypeOf(c), Object.prototype);
  assert.equal(Object.keys(c), ['__proto__']);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('MACs and addresses parse exactly as their grammar says, on random strings (the hand-written scanners against the regular expressions)', () => {
  // The grammar, as regular expressions: the specification the fast scanners must match.
  const ipSpec = (t: string) => {
    const parts = t.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reduce((v, p) => v * 256 + Number(p), 0);
  };
  const macSpec = (text: string) => {
    const t = text.trim();
    const hex = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(t)
      ? t.replace(/[:-]/g, '')
      : /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(t)
        ? t.replace(/\./g, '')
        : /^[0-9A-Fa-f]{12}$/.test(t)
          ? t
          : undefined;
    return hex?.toLowerCase().match(/../g)!.join(':');
  };
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const alphabet = '0123456789.ab:-AFg \n';
  const samples = [
    '1.2.3.4',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '0.0.0.0',
    '1.2.3.4.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.4.5',
    '',
  ];
  for (let k = 0; k < 100_000; k++) {
    samples.push(Array.from({ length: rand(18) }, () => alphabet[rand(alphabet.length)]).join(''));
    samples.push([0, 0, 0, 0].map(() => rand(300)).join('.'));
    const mac = Array.from({ length: 6 }, () => rand(256).toString(16).padStart(2, '0')).join(rand(2) ? ':' : '-');
    samples.push(mac, mac.toUpperCase(), ` ${mac}`);
  }
  for (const t of samples) {
    assert.is(parseIpv4(t), ipSpec(t), JSON.stringify(t));
    assert.is(normalizeMac(t), macSpec(t), JSON.stringify(t));
  }
});

test('keyJson is JSON.stringify for plain values and tells NaN, the infinities and -0 apart wherever they are', () => {
  const plain = { a: [1, 'x', { b: null, c: true }], d: { e: 0, f: -1.5 } };
  assert.is(keyJson(plain), JSON.stringify(plain));
  const distinct = [0, -0, NaN, Infinity, -Infinity, null];
  const deep = (v: unknown) => ({ a: [1, { b: [v] }] });
  // Every place JSON.stringify writes a value: the whole text, an array's first, middle and last
  // item, an object's first and last value (after a string that looks like one), and what a
  // toJSON returns.
  const places = [
    (v: unknown) => v,
    deep,
    (v: unknown) => [v],
    (v: unknown) => [v, 1],
    (v: unknown) => [1, v, 2],
    (v: unknown) => ({ a: v, b: 1 }),
    (v: unknown) => ({ a: 'x:0,', b: v }),
    (v: unknown) => ({ a: { toJSON: () => [v] } }),
  ];
  for (const wrap of places) {
    const keys = distinct.map((v) => keyJson(wrap(v)));
    assert.is(new Set(keys).size, distinct.length, keys.join(' '));
  }
  // The same object, its inside changed: seen (nothing of a walk is kept).
  const inner = { n: 1 };
  const shallow = Object.freeze({ inner });
  const before = keyJson(shallow);
  inner.n = NaN;
  assert.is.not(keyJson(shallow), before);
});

test('sharedShape: the same own keys in the same order and the same values, a "__proto__" key kept as data, the prototype plain', () => {
  const at = ['nodes', 3];
  const src = { b: 1, a: at, ...(at.length > 1 ? { c: undefined } : {}) };
  const out = sharedShape(src);
  assert.equal(Object.keys(out), ['b', 'a', 'c']);
  assert.is(out.a, at, 'values are the same objects, not copies');
  assert.ok(Object.hasOwn(out, 'c'));
  assert.is(Object.getPrototypeOf(out), Object.prototype);
  const hostile = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
  const copy = sharedShape(hostile);
  assert.equal(Object.keys(copy), ['__proto__', 'x']);
  assert.is(Object.getPrototypeOf(copy), Object.prototype, 'the key does not set the prototype');
  assert.is((copy as { polluted?: boolean }).polluted, undefined);
});

test('nearPaths: a path below the working directory is looked up from it, unless the directory was renamed since Node took its path', async () => {
  const { mkdirSync, renameSync, writeFileSync, lstatSync, realpathSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { nearPaths } = await import('../src/util/lstat.ts');
  const { tempDir } = await import('./helpers/tmp.ts');
  const base = realpathSync(tempDir('near'));
  const work = join(base, 'work');
  mkdirSync(join(work, 'd'), { recursive: true });
  writeFileSync(join(work, 'd/f'), 'old');
  const before = process.cwd();
  try {
    process.chdir(work);
    const near = nearPaths();
    assert.is(near(join(work, 'd/f')), 'd/f');
    assert.is(near(work), work, 'the directory itself stays absolute');
    assert.is(near(`${work}//d/f`), `${work}//d/f`, 'a path not normalized stays as given');
    assert.is(near(`${work}x/d/f`), `${work}x/d/f`, 'a sibling that shares the prefix');
    assert.is(near('/elsewhere/f'), '/elsewhere/f');
    // Renamed, and another tree put at its path: Node still names the old path as the working
    // directory, and a relative lookup would reach the renamed one. Every path stays absolute.
    renameSync(work, join(base, 'work.old'));
    mkdirSync(join(work, 'd'), { recursive: true });
    writeFileSync(join(work, 'd/f'), 'new, longer');
    assert.is(process.cwd(), work, "Node's cached path");
    const after = nearPaths();
    assert.is(after(join(work, 'd/f')), join(work, 'd/f'));
    assert.is(lstatSync(after(join(work, 'd/f'))).size, 'new, longer'.length);
  } finally {
    process.chdir(before);
  }
  // At the root: every absolute path is below it.
  try {
    process.chdir('/');
    assert.is(nearPaths()('/etc/hostname'), 'etc/hostname');
  } finally {
    process.chdir(before);
  }
});

test.run();
