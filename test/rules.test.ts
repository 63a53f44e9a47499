// Every validation rule has a failing fixture (the code at the marked line:col, and no other
// error) and a passing counterpart (no such code, no error at all).
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { readMarkers } from './helpers/markers.ts';
import { tempDir } from './helpers/tmp.ts';

const root = join(import.meta.dirname, 'fixtures', 'check');
const cases = readdirSync(root).sort();

for (const name of cases) {
  const bad = join(root, name, 'bad');
  const good = join(root, name, 'good');
  const display = (dir: string) => (rel: string) => relative(process.cwd(), join(dir, rel));

  test(`${name}: the failing fixture reports its code at the marked position`, async () => {
    const expected = readMarkers(bad, display(bad));
    assert.ok(expected.length > 0, `fixture ${name}/bad has no expectation marker`);
    const result = await check({ sites: [bad] });
    const got = result.diagnostics.map((d) => `${d.code} ${d.file}:${d.line}:${d.col}`);
    for (const e of expected) assert.ok(got.includes(`${e.code} ${e.where}`), `expected ${e.code} at ${e.where}; got:\n${got.join('\n')}`);
    const unexpected = result.diagnostics.filter(
      (d) => d.severity === 'error' && !expected.some((e) => e.code === d.code && e.where === `${d.file}:${d.line}:${d.col}`),
    );
    assert.equal(
      unexpected.map((d) => `${d.code} ${d.file}:${d.line}:${d.col} ${d.message}`),
      [],
      'errors without a marker',
    );
    for (const d of result.diagnostics) {
      assert.ok(d.hint && d.hint.length > 10, `${d.code} has no useful hint`);
      assert.ok(d.line !== undefined && d.line >= 1 && (d.col ?? 0) >= 1, `${d.code} has no position`);
    }
  });

  test(`${name}: the passing counterpart has no errors`, async () => {
    const result = await check({ sites: [good] });
    // Fixtures write their token and password inline on purpose (SECRET_INLINE is tested in secrets.test.ts).
    assert.equal(
      result.diagnostics.filter((d) => d.code !== 'SECRET_INLINE').map((d) => `${d.code} ${d.file}:${d.line}:${d.col} ${d.message}`),
      [],
    );
    assert.ok(result.ok);
  });
}

test('a hint names the fix when the message knows it: the network address of a CIDR with host bits set', async () => {
  const result = await check({ sites: [join(root, 'net-cidr-invalid', 'bad')] });
  const d = result.diagnostics.find((x) => x.code === 'NET_CIDR_INVALID');
  assert.match(d?.message ?? '', /has host bits set \(the network address is 10\.0\.0\.0\/24\)/);
  assert.is(d?.hint, 'Write the network address: `cidr: 10.0.0.0/24`.');
  // Not for a network too small for a cluster: that hint would lead straight to the next refusal.
  const dir = tempDir('net-cidr');
  const text = readFileSync(join(root, 'net-cidr-invalid', 'bad', 'site.yaml'), 'utf8');
  writeFileSync(join(dir, 'site.yaml'), text.replace('cidr: 10.0.0.1/24', 'cidr: 10.0.0.5/31'));
  const small = (await check({ sites: [dir] })).diagnostics.find((x) => x.code === 'NET_CIDR_INVALID');
  assert.match(small?.message ?? '', /host bits set/);
  assert.not.match(small?.hint ?? '', /10\.0\.0\.4\/31/);
});

test('a duplicate hostname tells the two nodes apart by their place and boot MAC (the hostname cannot)', async () => {
  const result = await check({ sites: [join(root, 'node-duplicate-hostname', 'bad')] });
  const d = result.diagnostics.find((x) => x.code === 'NODE_DUPLICATE_HOSTNAME');
  assert.is(d?.message, 'hostname "n1" is used by two nodes: nodes[0] (MAC 52:54:00:00:00:01) and nodes[1] (MAC 52:54:00:00:00:02)');
});

test('a node that boots from an image and has no ip is told to add it, never to lease one (its image gets no DHCP)', async () => {
  const dir = tempDir('media-no-ip');
  const text = readFileSync(join(root, 'media-bmc-refused', 'good', 'site.yaml'), 'utf8');
  cpSync(join(root, 'media-bmc-refused', 'good', 'loaders'), join(dir, 'loaders'), { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), text.replace('    ip: 10.0.0.11\n', ''));
  const found = (await check({ sites: [dir] })).diagnostics.filter((d) => d.severity === 'error');
  const d = found.find((x) => x.code === 'NODE_STATIC_WITHOUT_IP');
  assert.ok(d, found.map((x) => x.code).join(', '));
  assert.match(d!.hint ?? '', /^Add `ip:` to the node: it boots from its boot ISO \(medium: iso\), which gets no DHCP/);
  assert.not.match(d!.hint ?? '', /method: dhcp/);
  for (const x of found) assert.not.match(x.hint ?? '', /use `method: dhcp`/, `${x.code}: ${x.hint}`);
  // A network node keeps both ways out.
  writeFileSync(join(dir, 'site.yaml'), text.replace('    ip: 10.0.0.11\n', '').replace('    medium: iso\n', ''));
  const net = (await check({ sites: [dir] })).diagnostics.find((x) => x.code === 'NODE_STATIC_WITHOUT_IP');
  assert.is(net?.hint, 'Add `ip:` to the node, or use `method: dhcp`.');
});

test.run();
