// A network without a pool (`network.dhcp_range` left out): the reservations-only DHCP files are
// test/fixtures/build/no-pool's golden tree (and kea-dhcp4 -t, dhcpd -t, dnsmasq --test in
// test/real/dhcp-forms.test.ts); here, what check says of a node that would lease an address.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = join(import.meta.dirname, '..');

test('a node without ip on a network without a pool: NET_DHCP_RANGE_REQUIRED names it, and no message speaks of a pool "undefined-undefined"', async () => {
  const dir = join(tempDir('no-pool'), 'site');
  cpSync(join(repo, 'test/fixtures/build/no-pool/site'), dir, { recursive: true });
  const yaml = join(dir, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('    ip: 10.40.0.12\n', ''));
  const r = await check({ sites: [dir] });
  const need = r.diagnostics.filter((d) => d.code === 'NET_DHCP_RANGE_REQUIRED');
  assert.is(need.length, 1, JSON.stringify(r.diagnostics.map((d) => d.code)));
  assert.match(need[0]!.message, /node p2 \(no `ip`\)/);
  assert.not.ok(
    r.diagnostics.some((d) => /undefined/.test(d.message)),
    r.diagnostics.map((d) => d.message).join('\n'),
  );
});

test.run();
