// discover's stub of a machine measured before it had a node (`harvgen facts --bmc --as`): matched
// by its MAC, it takes the hostname of the facts (its file still named by its MAC), and proposes the install disk
// the facts measured a stable path for; the stub is a node file the schema accepts once moved.
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { factsText } from '../src/facts/file.ts';
import type { MeasuredFacts } from '../src/facts/types.ts';
import { discover } from '../src/status/discover.ts';
import { measuredMatch, proposedDisk } from '../src/status/discover-measured.ts';
import { line, site } from './helpers/status.ts';

const MAC = '52:54:00:ff:00:07';
const FACTS: MeasuredFacts = {
  measured: { source: 'dump', from: 'hv-7.facts', at: '2026-11-27T01:00:00Z' },
  identity: { manufacturer: 'Exämple Systems', serial: 'SN-7', uuid: '4c4c4544-0042-3510-8052-b2c04f565337' },
  firmware: 'uefi',
  cpus: 32,
  memoryGib: 128,
  disks: [
    { name: 'sda', byId: '/dev/disk/by-id/ata-BIG_1', sizeGib: 3725, media: 'HDD' },
    { name: 'sdb', byId: '/dev/disk/by-id/ata-SSD_2', sizeGib: 447, media: 'SSD' },
    { name: 'sdc', byId: '/dev/disk/by-id/usb-STICK_3', sizeGib: 14 },
  ],
  nics: [{ mac: MAC, speedMbps: 25000, link: 'up', name: 'eno1' }],
};

test('a stub of a measured machine: named by its MAC (a forged MAC or UUID cannot take the name), its hostname and install disk from the facts', async () => {
  const dir = site();
  mkdirSync(join(dir, 'facts'));
  writeFileSync(join(dir, 'facts', 'hv-7.yaml'), factsText('hv-7', FACTS));
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${line('10.0.0.160', 8, `/ipxe/${MAC.replaceAll(':', '-')}.ipxe`, 404)}\n`);
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.equal(
    r.unknown.map((u) => [u.stub, u.written]),
    [['discovered/new-525400ff0007.yaml', true]],
  );
  const stub = readFileSync(join(dir, 'discovered', 'new-525400ff0007.yaml'), 'utf8');
  assert.match(
    stub,
    /^hostname: hv-7\nmacs: \[52:54:00:ff:00:07\]\ninstall:\n {2}device: "\/dev\/disk\/by-id\/ata-SSD_2" {3}# the smallest disk of 250 GiB or more: check it\n$/m,
  );
  assert.match(
    stub,
    /^# Measured \(facts\/hv-7\.yaml, dump at 2026-11-27T01:00:00Z; matched by its MAC\): manufacturer Ex\?mple Systems, serial SN-7, SMBIOS UUID 4c4c4544-0042-3510-8052-b2c04f565337\.$/m,
  );
  // Moved into nodes/, the stub is a node the site accepts, and its facts are its own.
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  assert.match(stub, /^# {3}mv \.\/discovered\/new-525400ff0007\.yaml \.\/nodes\/hv-7\.yaml /m);
  renameSync(join(dir, 'discovered', 'new-525400ff0007.yaml'), join(dir, 'nodes', 'hv-7.yaml'));
  const c = await check({ sites: [dir] });
  assert.equal(
    c.diagnostics.filter((d) => /^(SCHEMA|MEASURED|NODE_DEVICE)/.test(d.code)).map((d) => `${d.code} ${d.message}`),
    [],
  );
});

test("a machine that reports a measured machine's UUID from another MAC: its stub takes neither that machine's name nor its disk", async () => {
  const dir = site();
  mkdirSync(join(dir, 'facts'));
  writeFileSync(join(dir, 'facts', 'hv-7.yaml'), factsText('hv-7', FACTS));
  const log = join(dir, '..', 'access.log');
  const other = '52:54:00:ff:00:66';
  // unknown.ipxe's report: the MAC and the SMBIOS UUID the machine says it has.
  writeFileSync(
    log,
    `${line('10.0.0.161', 8, `/harvgen-discover?mac=${other.replaceAll(':', '-')}&uuid=${FACTS.identity.uuid}&serial=SN-7`, 200)}\n${line('10.0.0.161', 9, `/ipxe/${other.replaceAll(':', '-')}.ipxe`, 404)}\n`,
  );
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.equal(
    r.unknown.map((u) => [u.stub, u.written]),
    [['discovered/new-525400ff0066.yaml', true]],
  );
  const stub = readFileSync(join(dir, 'discovered', 'new-525400ff0066.yaml'), 'utf8');
  assert.not.match(stub, /^hostname:/m, stub);
  assert.not.match(stub, 'ata-SSD_2');
  assert.not.match(stub, 'nodes/hv-7.yaml');
  assert.match(stub, /^# {3}mv \.\/discovered\/new-525400ff0066\.yaml \.\/nodes\/<hostname>\.yaml /m);
  assert.match(
    stub,
    "It reported the SMBIOS UUID of the machine measured as hv-7 (facts/hv-7.yaml), but none of that machine's NICs has its MAC",
  );
});

test('a machine booting from a NIC set to a virtual MAC is matched by that MAC (configured_mac), not only its permanent one', () => {
  const virtual = '02:00:0a:00:00:07';
  const facts: MeasuredFacts = { ...FACTS, nics: [{ mac: MAC, configuredMac: virtual, link: 'up', name: 'eno1' }] };
  const model = { nodes: [], measured: { 'hv-7': facts } } as unknown as Parameters<typeof measuredMatch>[0];
  assert.equal(measuredMatch(model, { mac: virtual } as Parameters<typeof measuredMatch>[1])?.by, 'mac');
  assert.equal(measuredMatch(model, { mac: MAC } as Parameters<typeof measuredMatch>[1])?.hostname, 'hv-7');
  assert.is(measuredMatch(model, { mac: '02:00:0a:00:00:08' } as Parameters<typeof measuredMatch>[1]), undefined);
});

test('the proposed disk: the smallest with a stable path that holds 250 GiB, else the largest; none without by-id paths', () => {
  assert.is(proposedDisk(FACTS.disks!)?.byId, '/dev/disk/by-id/ata-SSD_2');
  assert.is(
    proposedDisk([
      { byId: '/dev/disk/by-id/a', sizeGib: 100 },
      { byId: '/dev/disk/by-id/b', sizeGib: 200 },
    ])?.byId,
    '/dev/disk/by-id/b',
  );
  assert.is(proposedDisk([{ model: 'C123', sizeGib: 800 }]), undefined);
});

test.run();
