// Mixed firmware and mixed architectures in one site: `boot.firmware` is what the site's x86-64
// machines boot; arm64 machines are UEFI whatever it says (`nodeFirmware`, src/model/boot.ts).
// Every rule that depends on firmware asks the node, so an arm64 Harvester node on a BIOS site is
// judged as the UEFI machine it is, and its files are UEFI ones; the x86-64 nodes stay BIOS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { compileSite } from '../src/index.ts';
import type { Diagnostic } from '../src/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, unknown>;

const ROCKY = {
  kernel: 'http://192.168.122.1/os/rocky/vmlinuz',
  initrds: ['http://192.168.122.1/os/rocky/initrd.img'],
  params: ['console=ttyS0,115200'],
};

/**
 * location_x on a BIOS site, installing Harvester `version` on arm64 machines (all three
 * Harvester nodes), plus an x86-64 OS-profile node (`rancher`, BIOS like the site); `change`
 * edits the document last.
 */
function site(label: string, version = 'v1.8.1', change: (doc: Doc) => void = () => undefined): string {
  const doc = exampleSite() as Doc;
  doc.harvester = { ...(doc.harvester as Doc), version, artifacts: `http://192.168.122.1/artifacts/${version}` };
  doc.boot = { ...(doc.boot as Doc), firmware: 'bios' };
  doc.os_profiles = { rocky: ROCKY };
  const nodes = doc.nodes as Doc[];
  for (const n of nodes) n.arch = 'arm64';
  nodes.push({ hostname: 'rancher', mac: '52:54:00:aa:cc:01', ip: '192.168.122.31', os: 'rocky', arch: 'x86_64' });
  change(doc);
  const dir = join(tempDir(label), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.severity} ${d.code} ${d.path ?? ''}`);

async function compiled(dir: string): Promise<{ diagnostics: readonly Diagnostic[]; files: Map<string, string> }> {
  const r = await compileSite(dir);
  const files = new Map((r.artifacts ?? []).map((a) => [a.path, typeof a.contents === 'string' ? a.contents : '']));
  return { diagnostics: r.diagnostics, files };
}

test('boot.firmware: bios, arm64 Harvester v1.8 nodes and an x86-64 OS node: no HARVESTER_BIOS_UNSUPPORTED; the arm64 files are UEFI', async () => {
  const { diagnostics, files } = await compiled(site('mixed-fw'));
  assert.not.ok(
    diagnostics.some((d) => d.code === 'HARVESTER_BIOS_UNSUPPORTED'),
    `the arm64 nodes boot UEFI: ${codes(diagnostics).join(', ')}`,
  );
  assert.equal(
    diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path} ${d.message}`),
    [],
    'the site builds',
  );
  // The arm64 Harvester node: the arm64 release's UEFI kernel line (initrd named) and an EFI domain.
  const hv1 = files.get('ipxe/52-54-00-aa-bb-01.ipxe')!;
  assert.match(hv1, /kernel --name vmlinuz \S+\/artifacts\/v1\.8\.1\/harvester-v1\.8\.1-vmlinuz-arm64 initrd=initrd /);
  assert.match(files.get('libvirt/hv-1.xml')!, /<os firmware='efi'>\n\s+<type arch='aarch64' machine='virt'>hvm<\/type>/);
  // The x86-64 OS node keeps the site's BIOS: no initrd= on its kernel line, a BIOS domain.
  const rancher = files.get('ipxe/52-54-00-aa-cc-01.ipxe')!;
  assert.match(rancher, /^kernel --name vmlinuz http:\/\/192\.168\.122\.1\/os\/rocky\/vmlinuz /m);
  assert.not.match(rancher, /initrd=initrd/, 'the x86 BIOS node keeps its BIOS kernel line');
  const dom = files.get('libvirt/rancher.xml')!;
  assert.not.match(dom, /firmware='efi'/, 'the x86 OS node boots BIOS');
  assert.match(dom, /<type arch='x86_64'/);
  // DHCP hands both: the BIOS iPXE to x86 firmware PXE and the arm64 loader to client arch 11.
  const dns = files.get('dnsmasq/harvgen.conf')!;
  assert.match(dns, /^dhcp-match=set:efiarm64,option:client-arch,11$/m);
  assert.match(dns, /undionly\.kpxe/);
});

test('the same site with an x86-64 Harvester v1.8 node is refused: that node boots BIOS', async () => {
  const { diagnostics } = await compiled(
    site('mixed-fw-x86', 'v1.8.1', (d) => {
      (d.nodes as Doc[])[2]!.arch = 'x86_64';
    }),
  );
  assert.ok(
    diagnostics.some((d) => d.code === 'HARVESTER_BIOS_UNSUPPORTED' && d.severity === 'error'),
    codes(diagnostics).join(', '),
  );
});

test('mixed arch on a UEFI site: an x86-64 OS node and arm64 Harvester nodes build clean, each with its own files', async () => {
  const { diagnostics, files } = await compiled(
    site('mixed-arch', 'v1.8.1', (d) => {
      d.boot = { ...(d.boot as Doc), firmware: 'uefi' };
      (d.nodes as Doc[])[1]!.arch = 'x86_64';
    }),
  );
  assert.equal(
    diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path} ${d.message}`),
    [],
  );
  assert.match(files.get('ipxe/52-54-00-aa-bb-01.ipxe')!, /harvester-v1\.8\.1-vmlinuz-arm64 initrd=initrd /);
  assert.match(files.get('ipxe/52-54-00-aa-bb-02.ipxe')!, /harvester-v1\.8\.1-vmlinuz-amd64 initrd=initrd /);
  assert.match(files.get('ipxe/52-54-00-aa-cc-01.ipxe')!, / initrd=initrd0 /, 'the x86 OS node boots UEFI on a UEFI site');
  const fetch = files.get('artifacts/fetch.sh')!;
  assert.match(fetch, /harvester-v1\.8\.1-arm64\.sha512 /);
  assert.match(fetch, /harvester-v1\.8\.1-amd64\.sha512 /);
});

test('reinstall on an arm64 node of a BIOS site is allowed (UEFI), on an x86-64 node refused', async () => {
  const { diagnostics } = await compiled(
    site('mixed-fw-reinstall', 'v1.8.1', (d) => {
      const nodes = d.nodes as Doc[];
      nodes[2]!.arch = 'x86_64';
      d.harvester = { ...(d.harvester as Doc), version: 'v1.7.1', artifacts: 'http://192.168.122.1/artifacts/v1.7.1' };
      for (const i of [1, 2]) Object.assign(nodes[i]!, { state: 'install-once', reinstall: 2 });
    }),
  );
  const bios = diagnostics.filter((d) => d.code === 'NODE_REINSTALL_BIOS').map((d) => d.path);
  assert.equal(bios, ['nodes[2].reinstall'], codes(diagnostics).join(', '));
  assert.not.ok(
    diagnostics.some((d) => d.code === 'HARVESTER_BIOS_UNSUPPORTED'),
    'v1.7 installs on BIOS',
  );
});

test('uefi_loader: ipxe.efi concerns the x86-64 UEFI machines: an arm64 node leaving iPXE is not named, an x86-64 one is', async () => {
  const hang = async (label: string, change: (doc: Doc) => void) =>
    (await compiled(site(label, 'v1.8.1', change))).diagnostics.filter((d) => d.code === 'BOOT_EXIT_MAY_HANG').map((d) => d.path);
  const uefi = (d: Doc) => (d.boot = { ...(d.boot as Doc), firmware: 'uefi', uefi_loader: 'ipxe.efi' });
  // arm64 hv-2 boots its disk (arm64_loader, not uefi_loader): the warning is about unknown.ipxe.
  assert.equal(
    await hang('hang-arm', (d) => {
      uefi(d);
      (d.nodes as Doc[])[1]!.state = 'local';
    }),
    ['boot.uefi_loader'],
  );
  // The x86-64 OS node boots its disk through the x86 loader: it is named.
  assert.equal(
    await hang('hang-x86', (d) => {
      uefi(d);
      (d.nodes as Doc[])[3]!.state = 'local';
    }),
    ['nodes[3].state'],
  );
  // On a BIOS site only the arm64 machines boot UEFI, and they do not load uefi_loader.
  assert.equal(
    await hang('hang-bios', (d) => {
      d.harvester = { ...(d.harvester as Doc), version: 'v1.7.1', artifacts: 'http://192.168.122.1/artifacts/v1.7.1' };
      d.boot = { ...(d.boot as Doc), uefi_loader: 'ipxe.efi' };
      (d.nodes as Doc[])[1]!.state = 'local';
    }),
    [],
  );
});

test.run();
