// The BareMetalHosts of `metal3.export` say what Ironic will do (src/derive/metal3-host.ts,
// src/derive/metal3-hints.ts): a Secure Boot site's hosts boot with UEFISecureBoot (baremetal-operator's
// webhook admits UEFI there too, so the value is checked here; test/real/metal3.test.ts shows the
// webhook refusing UEFISecureBoot on IPMI, which harvgen refuses first), install disks named by
// what they are or by id become the hints Ironic's agent matches, and what cannot be one is refused.
import { cpSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { compileSite } from '../src/index.ts';
import type { Diagnostic } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/build/metal3-secure-boot/site');

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Host {
  spec: { bootMode: string; rootDeviceHints?: Record<string, unknown>; image?: Record<string, unknown>; bmc: { address: string } };
}

/** The Secure Boot fixture, changed; its hosts by name and its diagnostics. */
async function compile(
  change: (doc: Doc, dir: string) => void = () => {},
): Promise<{ hosts: Map<string, Host>; diagnostics: readonly Diagnostic[]; dir: string }> {
  const dir = join(tempDir('metal3'), 'site');
  cpSync(FIXTURE, dir, { recursive: true });
  const doc = parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as Doc;
  change(doc, dir);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const r = await compileSite(dir);
  const hosts = new Map<string, Host>();
  for (const a of r.artifacts ?? []) {
    const m = /^metal3\/(.+)\.yaml$/.exec(a.path);
    if (m && m[1] !== 'kustomization') hosts.set(m[1]!, parse(a.contents as string) as Host);
  }
  return { hosts, diagnostics: r.diagnostics, dir };
}

const errors = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);
const node = (doc: Doc, name: string): Doc => (doc.nodes as Doc[]).find((n) => n.hostname === name)!;

test('a Secure Boot site: every Redfish host boots with UEFISecureBoot, not UEFI', async () => {
  const { hosts, diagnostics } = await compile();
  assert.equal(errors(diagnostics), []);
  assert.is(hosts.size, 6);
  for (const [name, h] of hosts) assert.is(h.spec.bootMode, 'UEFISecureBoot', name);
});

test('without boot.secure_boot the same hosts boot with UEFI, and on a BIOS site with legacy', async () => {
  const uefi = await compile((doc) => delete doc.boot.secure_boot);
  assert.equal([...new Set([...uefi.hosts.values()].map((h) => h.spec.bootMode))], ['UEFI']);
  const bios = await compile((doc) => {
    delete doc.boot.secure_boot;
    doc.boot.firmware = 'bios';
  });
  assert.equal([...new Set([...bios.hosts.values()].map((h) => h.spec.bootMode))], ['legacy']);
});

test('an IPMI node on a Secure Boot site is refused at its bmc (baremetal-operator refuses UEFISecureBoot for IPMI)', async () => {
  const { diagnostics, dir } = await compile((doc) => (node(doc, 's1').bmc = { type: 'ipmi', address: '10.61.1.11' }));
  const d = diagnostics.find((x) => x.code === 'METAL3_HOST_INVALID');
  assert.ok(d, JSON.stringify(errors(diagnostics)));
  assert.match(d!.message, /node s1 boots with Secure Boot.*IPMI.*does not support secure boot/);
  assert.match(d!.file ?? '', /site\.yaml$/);
  const line = readFileSync(join(dir, 'site.yaml'), 'utf8').split('\n')[d!.line! - 1]!;
  // The node's bmc: map, at its first key.
  assert.match(line, /^ +type: ipmi$/);
});

test('install disks by serial, WWN, model and size, and by id, as the root device hints Ironic matches', async () => {
  const { hosts } = await compile();
  const hints = Object.fromEntries([...hosts].map(([n, h]) => [n, h.spec.rootDeviceHints]));
  assert.equal(hints, {
    s1: { serialNumber: 'S45PNA0M100001' },
    // A NAA WWN as udev spells ID_WWN_WITH_EXTENSION (lowercase, 0x), whatever the inventory's spelling.
    s2: { wwnWithExtension: '0x5002538e00000022' },
    // The model as measured of the chosen disk, the minimum size, pinned by the disk's WWN (no maximum in Metal3).
    s3: { model: 'SAMSUNG MZ7LH480', minSizeGigabytes: 400, wwnWithExtension: '0x5002538e00000032' },
    s4: { wwnWithExtension: '0x5000c500a1b2c3d4' },
    s5: { wwn: 'eui.0025388b91c17b06' },
    // An ata- link joins model and serial: the machine's facts tell the serial.
    s6: { serialNumber: 'S45PNA0M100061' },
  });
});

test('a kernel name and a by-path name stay deviceName; `config:` naming the disk wins over the selector', async () => {
  const { hosts, diagnostics } = await compile((doc) => {
    node(doc, 's4').install.device = '/dev/sda';
    node(doc, 's5').install.device = '/dev/disk/by-path/pci-0000:00:1f.2-ata-1';
    node(doc, 's1').config = { install: { device: '/dev/sdb' } };
  });
  assert.equal(errors(diagnostics), []);
  assert.equal(hosts.get('s4')!.spec.rootDeviceHints, { deviceName: '/dev/sda' });
  assert.equal(hosts.get('s5')!.spec.rootDeviceHints, { deviceName: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1' });
  assert.equal(hosts.get('s1')!.spec.rootDeviceHints, { deviceName: '/dev/sdb' });
});

for (const [device, why] of [
  ['/dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M999999', /joins the disk's model and serial/],
  ['/dev/disk/by-id/nvme-SAMSUNG_MZQL2960_S64FNE0R', /joins the disk's model and serial/],
  ['/dev/disk/by-label/harvester', /label, UUID or mapper name/],
  ['/dev/mapper/os', /label, UUID or mapper name/],
] as const)
  test(`an install disk no hint can name is refused: ${device}`, async () => {
    const { diagnostics, hosts } = await compile((doc) => (node(doc, 's4').install.device = device));
    const d = diagnostics.find((x) => x.code === 'METAL3_HOST_INVALID');
    assert.ok(d, JSON.stringify(errors(diagnostics)));
    assert.match(d!.message, why);
    assert.ok(d!.message.includes(device));
    assert.ok(d!.hint && d.hint.length > 20);
    assert.is(hosts.size, 0);
  });

test('a Secure Boot site node that boots its boot ISO stays UEFI (Ironic would turn Secure Boot on for its unsigned iPXE)', async () => {
  const { hosts, diagnostics } = await compile((doc, dir) => {
    cpSync(join(import.meta.dirname, 'fixtures/check/metal3-iso-over-ipxe/good/loaders'), join(dir, 'loaders'), { recursive: true });
    doc.boot.media_loaders = './loaders';
    Object.assign(node(doc, 's4'), { medium: 'iso', method: 'static' });
  });
  assert.equal(errors(diagnostics), []);
  assert.ok(diagnostics.some((d) => d.code === 'MEDIA_UNSUPPORTED' && /Secure Boot off/.test(d.message)));
  assert.is(hosts.get('s4')!.spec.bootMode, 'UEFI');
  assert.is(hosts.get('s4')!.spec.image!.format, 'live-iso');
  assert.is(hosts.get('s4')!.spec.image!.checksum, undefined);
  assert.is(hosts.get('s5')!.spec.bootMode, 'UEFISecureBoot');
});

test("an IPMI node's boot ISO: the host keeps its live ISO, and the export warns that Ironic boots it over its own iPXE", async () => {
  const { hosts, diagnostics } = await compile((doc, dir) => {
    cpSync(join(import.meta.dirname, 'fixtures/check/metal3-iso-over-ipxe/good/loaders'), join(dir, 'loaders'), { recursive: true });
    delete doc.boot.secure_boot;
    doc.boot.media_loaders = './loaders';
    Object.assign(node(doc, 's4'), { medium: 'iso', method: 'static', bmc: { type: 'ipmi', address: '10.61.1.14' } });
  });
  assert.equal(errors(diagnostics), []);
  const w = diagnostics.filter((d) => d.code === 'METAL3_ISO_OVER_IPXE');
  assert.is(w.length, 1);
  assert.match(w[0]!.message, /node s4 has an IPMI BMC.*Ironic's provisioning network.*sanboot/);
  assert.is(hosts.get('s4')!.spec.bmc.address, 'ipmi://10.61.1.14:623');
  assert.is(hosts.get('s4')!.spec.image!.format, 'live-iso');
});

test.run();
