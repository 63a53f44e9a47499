// Lab domains of arm64 nodes run on an x86-64 lab host (issue 18, item 6): the generated domain is
// emulated (`type='qemu'`, CPU model `maximum`), and libvirt's own QEMU driver (virt-qemu-run, the
// embedded driver: no daemon) starts it with QEMU's aarch64 emulator and its UEFI firmware (Debian's
// qemu-efi-aarch64, picked by `firmware='efi'`); the firmware's messages on the serial console show
// it runs. Only what is local to the lab host is rewritten for the test: the disk path (a fresh
// qcow2), the serial console (a file instead of a pty) and the NIC (the lab network is not defined
// in an embedded driver). Mutation: the same domain as KVM with host-passthrough (what harvgen wrote
// before) is refused by libvirt on this host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { build } from '../../src/index.ts';
import { exampleSite } from '../helpers/example.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns } from './helpers/netns.ts';
import { run, describe } from './helpers/proc.ts';

const FIRMWARE_SEEN = /UEFI firmware|BdsDxe/;

function present(): boolean {
  return requireProgram('virt-qemu-run', 'qemu-system-aarch64', 'qemu-img', 'ip', '/usr/share/AAVMF/AAVMF_CODE.fd') && requireRoot();
}

let domainXml: Promise<string> | undefined;

/** libvirt/hv-arm.xml of location_x with an arm64 node added (lab host: the default x86-64). */
function armDomain(): Promise<string> {
  domainXml ??= (async () => {
    const doc = exampleSite() as Record<string, unknown>;
    (doc.nodes as Record<string, unknown>[]).push({ hostname: 'hv-arm', mac: '52:54:00:aa:bb:a4', arch: 'arm64' });
    const dir = path.join(tempDir('lab-arm64'), 'site');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
    const out = path.join(tempDir('lab-arm64-out'), 'out');
    const r = await build({ sites: [dir], outDir: out });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
    return readFile(path.join(out, 'location_x', 'libvirt', 'hv-arm.xml'), 'utf8');
  })();
  return domainXml;
}

/** The host-local parts of the domain, pointed at the test's own files. */
function localize(xml: string, work: string): string {
  const out = xml
    .replace(/<source file='[^']+'\/>/, `<source file='${path.join(work, 'disk.qcow2')}'/>`)
    .replace(/ *<interface type='network'>[\s\S]*?<\/interface>\n/, '')
    .replace(
      /<serial type='pty'>\s*<target port='0'\/>\s*<\/serial>\s*<console type='pty'>\s*<target type='serial' port='0'\/>\s*<\/console>/,
      `<serial type='file'><source path='${path.join(work, 'serial.log')}'/><target port='0'/></serial>`,
    );
  for (const gone of ["<interface type='network'>", "<serial type='pty'>"])
    if (out.includes(gone)) throw new Error(`could not rewrite ${gone}`);
  return out;
}

/** Run a domain with libvirt's embedded QEMU driver for up to `ms`, inside a namespace of the test. */
async function runDomain(xml: string, ms: number): Promise<{ code: number | null; output: string; serial: string }> {
  const work = tempDir('virt-qemu-run');
  mkdirSync(path.join(work, 'root', 'etc'), { recursive: true });
  // The embedded driver's own configuration: no virtlogd, no privilege drop (this is a test root).
  writeFileSync(path.join(work, 'root', 'etc', 'qemu.conf'), 'user = "root"\ngroup = "root"\nstdio_handler = "file"\n');
  const r0 = await run(['qemu-img', 'create', '-f', 'qcow2', path.join(work, 'disk.qcow2'), '1G'], { timeoutMs: 20_000 });
  if (r0.code !== 0) throw new Error(describe(r0));
  const file = path.join(work, 'domain.xml');
  writeFileSync(file, localize(xml, work));
  return withNetns('arm64', async (ns) => {
    const r = await run(ns.exec(['timeout', String(Math.ceil(ms / 1000)), 'virt-qemu-run', '--root', path.join(work, 'root'), file]), {
      timeoutMs: ms + 30_000,
    });
    const serial = existsSync(path.join(work, 'serial.log')) ? await readFile(path.join(work, 'serial.log'), 'utf8') : '';
    return { code: r.code, output: r.stdout + r.stderr, serial };
  });
}

test("an arm64 node's lab domain is emulated and runs its UEFI firmware on this x86-64 host (libvirt's QEMU driver)", async () => {
  if (!present()) return;
  const xml = await armDomain();
  assert.match(xml, /^<domain type='qemu'>$/m);
  const r = await runDomain(xml, 45_000);
  assert.match(r.serial, FIRMWARE_SEEN, `no firmware output; virt-qemu-run said:\n${r.output.slice(-2000)}`);
  // `timeout` ended a VM that was still running (124), not libvirt refusing it.
  assert.is(r.code, 124, r.output.slice(-2000));
});

test('mutation: the same domain as KVM with host-passthrough (the earlier form) is refused on this host', async () => {
  if (!present()) return;
  const xml = (await armDomain())
    .replace("<domain type='qemu'>", "<domain type='kvm'>")
    .replace("<cpu mode='maximum' check='none'/>", "<cpu mode='host-passthrough' check='none'/>");
  const r = await runDomain(xml, 30_000);
  assert.not.match(r.serial, FIRMWARE_SEEN);
  assert.match(r.output, /does not support virt type 'kvm'|KVM is not available|kvm/i, r.output.slice(-2000));
  assert.is.not(r.code, 124);
});

test.run();
