/**
 * The disk test's initramfs (test/real/disk-selector.test.ts): static busybox, Debian's own udev
 * (udevadm, run as systemd-udevd, with the shared libraries it links, scsi_id and ata_id, and
 * 60-persistent-storage.rules, which makes /dev/disk/by-id/), the test kernel's disk drivers, the
 * collector script harvgen prints (`harvgen facts --script`) and /init
 * (test/fixtures/real/disk-initramfs/init). No udev rule is written here: the links are udev's.
 */
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COLLECTOR_SCRIPT } from '../../../src/measure/dump.ts';
import { packInitramfs, REPO_ROOT, type TestKernel } from './initramfs.ts';
import { describe, run } from './proc.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** Debian's udev, as the host has it (Debian: udev). */
export const UDEV_FILES = [
  '/usr/bin/udevadm',
  '/lib/udev/scsi_id',
  '/lib/udev/ata_id',
  '/lib/udev/rules.d/60-persistent-storage.rules',
] as const;

let cached: Promise<string> | undefined;

/** Build (once per process) the initramfs; returns its path (in a temp dir removed at exit). */
export function buildDiskInitramfs(kernel: TestKernel): Promise<string> {
  cached ??= (async () => {
    const dir = tempDir('disk-initramfs');
    const root = path.join(dir, 'root');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'run', 'tmp', 'usr/bin', 'lib/udev/rules.d', 'lib/systemd', 'modules', 'etc/udev'])
      await mkdir(path.join(root, d), { recursive: true });
    await copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
    await chmod(path.join(root, 'bin/busybox'), 0o755);
    for (const f of UDEV_FILES) {
      const to = path.join(root, f.replace(/^\/usr\/lib\//, '/lib/'));
      await copyFile(f, to);
      await chmod(to, f.endsWith('.rules') ? 0o644 : 0o755);
    }
    // udevadm is udevd when called so (one binary, two names).
    await symlink('/usr/bin/udevadm', path.join(root, 'lib/systemd/systemd-udevd'));
    // The shared libraries the binaries link, at the paths their loader looks in.
    const libs = new Set<string>();
    for (const bin of ['/usr/bin/udevadm', '/lib/udev/scsi_id', '/lib/udev/ata_id']) {
      const r = await run(['ldd', bin], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`ldd ${bin}\n${describe(r)}`);
      for (const m of r.stdout.matchAll(/(\/\S+\.so[.\d]*)/g)) libs.add(m[1]!);
    }
    for (const lib of libs) {
      const to = path.join(root, lib.replace(/^\/usr\/lib\//, '/lib/'));
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(lib, to);
    }
    await copyFile(path.join(REPO_ROOT, 'test/fixtures/real/disk-initramfs/init'), path.join(root, 'init'));
    await chmod(path.join(root, 'init'), 0o755);
    await writeFile(path.join(root, 'collect.sh'), COLLECTOR_SCRIPT);
    await writeFile(path.join(root, 'modules.list'), kernel.modules.join('\n') + '\n');
    for (const m of kernel.modules) await copyFile(path.join(kernel.modulesDir, m), path.join(root, 'modules', m));
    const out = path.join(dir, 'disk-initramfs.cpio.gz');
    await packInitramfs(root, out);
    return out;
  })();
  return cached;
}
