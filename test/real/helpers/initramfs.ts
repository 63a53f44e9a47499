/**
 * The test kernel (Debian's, via scripts/fetch-test-kernel.sh) and a tiny busybox initramfs that
 * stands in for Harvester's installer: it prints /proc/cmdline, brings up the network as the
 * `ip=` argument says, fetches `harvester.install.config_url`, prints what it got and powers off.
 * Everything it reports goes to /dev/ttyS0 as lines starting with `HARVGEN-`.
 */
import { mkdir, readFile, writeFile, copyFile, readdir, rm, chmod, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, describe } from './proc.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** Repository root (two levels above test/real/helpers). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where scripts/fetch-test-kernel.sh puts the kernel and modules. */
export const KERNEL_DIR = process.env.HARVGEN_KERNEL_DIR ?? path.join(REPO_ROOT, '.tmp/real/kernel');

/** Paths of the fetched kernel. */
export interface TestKernel {
  vmlinuz: string;
  modulesDir: string;
  modules: string[];
  version: string;
}

/** Make sure the test kernel is present (fetching it with apt-get download if not). */
export async function ensureKernel(): Promise<TestKernel> {
  const versionFile = path.join(KERNEL_DIR, 'VERSION');
  const listFile = path.join(KERNEL_DIR, 'modules.list');
  // A cache from before 8021q and the disk drivers were packed (the guest's tagged VLAN, the disk
  // test): fetch it again.
  if ((await exists(listFile)) && !(await readFile(listFile, 'utf8')).split('\n').includes('virtio_scsi.ko')) {
    await rm(KERNEL_DIR, { recursive: true, force: true });
  }
  if (!(await exists(versionFile))) {
    const r = await run(['bash', path.join(REPO_ROOT, 'scripts/fetch-test-kernel.sh')], {
      timeoutMs: 300_000,
      env: { ...process.env, HARVGEN_KERNEL_DIR: KERNEL_DIR },
    });
    if (r.code !== 0) throw new Error(`could not fetch the test kernel\n${describe(r)}`);
  }
  const modules = (await readFile(listFile, 'utf8')).split('\n').filter(Boolean);
  return {
    vmlinuz: path.join(KERNEL_DIR, 'vmlinuz'),
    modulesDir: path.join(KERNEL_DIR, 'modules'),
    modules,
    version: (await readFile(versionFile, 'utf8')).trim(),
  };
}

/** The guest's /init and udhcpc hook (shell scripts kept as files so they stay readable). */
const INITRAMFS_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/real/initramfs');

let cached: Promise<string> | undefined;

/**
 * Build (once per process) `initramfs.cpio.gz` with static busybox, the NIC modules and /init.
 * Returns its path; it lives in a temp dir removed when the process exits.
 */
export function buildInitramfs(kernel: TestKernel): Promise<string> {
  cached ??= (async () => {
    const dir = tempDir('initramfs');
    const root = path.join(dir, 'root');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'modules']) await mkdir(path.join(root, d), { recursive: true });
    const busybox = await readFile('/bin/busybox');
    // The initramfs has no libc: a dynamically linked busybox (Debian "busybox") cannot run there.
    if (hasInterpreter(busybox)) throw new Error('/bin/busybox is dynamically linked: install busybox-static');
    await writeFile(path.join(root, 'bin/busybox'), busybox);
    await chmod(path.join(root, 'bin/busybox'), 0o755);
    await copyFile(path.join(INITRAMFS_FIXTURES, 'init'), path.join(root, 'init'));
    await chmod(path.join(root, 'init'), 0o755);
    await copyFile(path.join(INITRAMFS_FIXTURES, 'udhcpc.script'), path.join(root, 'etc/udhcpc.script'));
    await chmod(path.join(root, 'etc/udhcpc.script'), 0o755);
    await writeFile(path.join(root, 'modules.list'), kernel.modules.join('\n') + '\n');
    for (const m of kernel.modules) await copyFile(path.join(kernel.modulesDir, m), path.join(root, 'modules', m));
    const out = path.join(dir, 'initramfs.cpio.gz');
    await packInitramfs(root, out);
    return out;
  })();
  return cached;
}

/** Pack directory `root` as a gzipped newc cpio at `out` (files owned by root), then remove `root`. */
export async function packInitramfs(root: string, out: string): Promise<void> {
  const files = await listTree(root);
  const cpio = `${out}.cpio`;
  const r = await run(['cpio', '--quiet', '-o', '-H', 'newc', '-R', '0:0', '-F', cpio], {
    cwd: root,
    input: files.join('\n') + '\n',
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new Error(`cpio failed\n${describe(r)}`);
  await writeFile(out, gzipSync(await readFile(cpio)));
  await rm(cpio);
  await rm(root, { recursive: true });
}

async function listTree(root: string, rel = '.'): Promise<string[]> {
  const out = [rel];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listTree(root, p)));
    else out.push(p);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** True when an ELF64 binary has a PT_INTERP program header (it needs a dynamic loader). */
function hasInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}
