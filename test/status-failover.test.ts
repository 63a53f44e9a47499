// `harvgen status` names a split of a failover pair (src/status/holders.ts): each server's
// keepalived check asks for boot.ipxe through the shared address with `?harvgen-holder=<server>`,
// which nginx logs from the shared address itself only while that server holds it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status } from '../src/status/index.ts';
import { holderMarks } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const SITE = join(import.meta.dirname, 'fixtures/build/failover-dnsmasq/site');
const marks = holderMarks;

async function splits(logs: string[][]) {
  const dir = tempDir('status-failover');
  const files = logs.map((l, i) => {
    const f = join(dir, `access-${i}.log`);
    writeFileSync(f, `${l.join('\n')}\n`);
    return f;
  });
  const r = await status({ sites: [SITE], logs: files });
  return r.diagnostics.filter((d) => d.code === 'FAILOVER_SPLIT');
}

test('both servers marking the shared address at once, each in its own log, is a split, named with its span', async () => {
  const d = await splits([marks('pxe1', '10.32.0.5', 0, 60), marks('pxe2', '10.32.0.5', 21, 51)]);
  assert.is(d.length, 1, JSON.stringify(d));
  assert.is(d[0]!.severity, 'warning');
  assert.match(
    d[0]!.message,
    /pxe1 and pxe2 both held the shared address 10\.32\.0\.5 from 2026-11-23T10:00:2\d\.000Z to 2026-11-23T10:00:5\d\.000Z/,
  );
  assert.match(d[0]!.hint!, /VRRP/);
});

test('a failover (one holder, then the other, seconds apart) is no split', async () => {
  assert.equal(await splits([marks('pxe1', '10.32.0.5', 0, 30), marks('pxe2', '10.32.0.5', 34, 90)]), []);
});

test("a server's mark from its own address (the other held the address) is no hold; nor a name that is no server's", async () => {
  const d = await splits([
    [...marks('pxe1', '10.32.0.5', 0, 60), ...marks('nobody', '10.32.0.5', 0, 60)],
    marks('pxe2', '10.32.0.3', 0, 60),
  ]);
  assert.equal(d, []);
});

test('two splits an hour apart are named apart', async () => {
  const d = await splits([
    marks('pxe1', '10.32.0.5', 0, 4000),
    [...marks('pxe2', '10.32.0.5', 100, 140), ...marks('pxe2', '10.32.0.5', 3600, 3700)],
  ]);
  assert.is(d.length, 2, JSON.stringify(d));
});

test.run();
