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
import { describe, run, startDaemon, waitFor } from './helpers/proc.ts';

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

/** What a run of a domain showed. */
interface DomainRun {
  output: string;
  serial: string;
  /** The firmware wrote to the serial console while the domain ran (the test then stopped it). */
  seen: boolean;
  /** virt-qemu-run ended by itself (libvirt refused the domain, or QEMU died), with this exit code. */
  ended: { code: number | null } | undefined;
}

/**
 * Run a domain with libvirt's embedded QEMU driver, inside a namespace of the test, until the
 * firmware speaks on the serial console, virt-qemu-run ends by itself, or `ms` pass. An emulated
 * aarch64 guest keeps a core busy for as long as it runs, so it is stopped as soon as it is seen.
 */
async function runDomain(xml: string, ms: number): Promise<DomainRun> {
  const work = tempDir('virt-qemu-run');
  mkdirSync(path.join(work, 'root', 'etc'), { recursive: true });
  // The embedded driver's own configuration: no virtlogd, no privilege drop (this is a test root).
  writeFileSync(path.join(work, 'root', 'etc', 'qemu.conf'), 'user = "root"\ngroup = "root"\nstdio_handler = "file"\n');
  const r0 = await run(['qemu-img', 'create', '-f', 'qcow2', path.join(work, 'disk.qcow2'), '1G'], { timeoutMs: 20_000 });
  if (r0.code !== 0) throw new Error(describe(r0));
  const file = path.join(work, 'domain.xml');
  writeFileSync(file, localize(xml, work));
  const serialFile = path.join(work, 'serial.log');
  const readSerial = async () => (existsSync(serialFile) ? await readFile(serialFile, 'utf8') : '');
  return withNetns('arm64', async (ns) => {
    const vm = startDaemon('virt-qemu-run', ns.exec(['virt-qemu-run', '--root', path.join(work, 'root'), file]));
    let seen = false;
    let ended: DomainRun['ended'];
    try {
      // Until virt-qemu-run ends by itself or the firmware speaks, at most `ms`.
      const what = await waitFor(
        async () => (vm.exited() ? 'ended' : FIRMWARE_SEEN.test(await readSerial()) ? 'seen' : undefined),
        ms,
        250,
      );
      // Seen while still running: libvirt started it and the firmware runs.
      seen = what === 'seen' && !vm.exited();
      if (what !== undefined && !seen) ended = { code: vm.exitCode() };
    } finally {
      // SIGTERM: virt-qemu-run shuts its QEMU down before it exits.
      await vm.stop(10_000);
    }
    return { output: vm.output(), serial: await readSerial(), seen, ended };
  });
}

test("an arm64 node's lab domain is emulated and runs its UEFI firmware on this x86-64 host (libvirt's QEMU driver)", async () => {
  if (!present()) return;
  const xml = await armDomain();
  assert.match(xml, /^<domain type='qemu'>$/m);
  const r = await runDomain(xml, 60_000);
  assert.match(r.serial, FIRMWARE_SEEN, `no firmware output; virt-qemu-run said:\n${r.output.slice(-2000)}`);
  // The domain was still running when its firmware spoke: the test stopped it, libvirt did not refuse it.
  assert.ok(r.seen && r.ended === undefined, `virt-qemu-run ended by itself (${JSON.stringify(r.ended)}):\n${r.output.slice(-2000)}`);
});

test('mutation: the same domain as KVM with host-passthrough (the earlier form) is refused on this host', async () => {
  if (!present()) return;
  const xml = (await armDomain())
    .replace("<domain type='qemu'>", "<domain type='kvm'>")
    .replace("<cpu mode='maximum' check='none'/>", "<cpu mode='host-passthrough' check='none'/>");
  const r = await runDomain(xml, 30_000);
  assert.not.match(r.serial, FIRMWARE_SEEN);
  assert.match(r.output, /does not support virt type 'kvm'|KVM is not available|kvm/i, r.output.slice(-2000));
  // Refused: virt-qemu-run ended by itself, with an error.
  assert.ok(r.ended !== undefined && r.ended.code !== 0, `virt-qemu-run did not end with an error: ${JSON.stringify(r.ended)}`);
});

test.run();
