// How many CPUs this process may really use, and the number of worker threads `harvgen build`
// starts by default. os.availableParallelism() sees the CPU affinity (taskset, cpusets) but not a
// cgroup CPU quota: a container limited to 1.5 CPUs on a 16-core host sees 16, and 15 workers
// there would only queue behind each other. The quota is read from the cgroup files the kernel
// shows (v2 `cpu.max`, v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`) of the process's own cgroup
// and of every cgroup above it, since a parent's quota limits its children too.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

/** The file's text, or undefined when it cannot be read (no such cgroup, no such controller, no permission). */
function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A whole number of microseconds written by the kernel; anything else is undefined. */
function micros(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,18}$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** v2 `cpu.max`: `<quota> <period>` in microseconds, or `max <period>` for no limit. */
function quotaV2(text: string | undefined): number | undefined {
  const [quota, period, ...rest] = (text ?? '').trim().split(/\s+/);
  if (rest.length > 0) return undefined;
  const q = micros(quota);
  const p = micros(period);
  return q !== undefined && p !== undefined ? q / p : undefined;
}

/** v1 `cpu.cfs_quota_us` (-1 for no limit) over `cpu.cfs_period_us`. */
function quotaV1(quotaText: string | undefined, periodText: string | undefined): number | undefined {
  const q = micros(quotaText?.trim());
  const p = micros(periodText?.trim());
  return q !== undefined && p !== undefined ? q / p : undefined;
}

/** `top`/`path` and every directory above it up to and including `top`, deepest first. */
function upTo(top: string, path: string): string[] {
  // The path comes from /proc/self/cgroup; normalize it so that `..` cannot climb above `top`.
  const parts = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const dirs: string[] = [];
  for (let n = parts.length; n >= 0; n--) dirs.push(join(top, ...parts.slice(0, n)));
  return dirs;
}

/**
 * The CPU quota of this process's cgroups in CPUs (1.5 for `cpu.max` `150000 100000`), the smallest
 * of its own cgroup's and its parents', or undefined when there is none or it cannot be read.
 * `root` is the file system root the `proc` and `sys` directories are read under (tests give a
 * directory of fake files).
 */
export function cgroupCpuQuota(root = '/'): number | undefined {
  const self = readOrUndefined(join(root, 'proc/self/cgroup'));
  if (self === undefined) return undefined;
  const quotas: number[] = [];
  const mount = join(root, 'sys/fs/cgroup');
  for (const line of self.split('\n')) {
    // `hierarchy-id:controllers:path`; the path may itself hold colons.
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') {
      // v2: one hierarchy, mounted at /sys/fs/cgroup. When the path is not under the mount (a
      // container without its own cgroup namespace), the mount's own cpu.max is still read.
      for (const dir of upTo(mount, path)) {
        const q = quotaV2(readOrUndefined(join(dir, 'cpu.max')));
        if (q !== undefined) quotas.push(q);
      }
    } else if (controllers.split(',').includes('cpu')) {
      // v1: the cpu controller's hierarchy, mounted as `cpu,cpuacct` (its listed name) or `cpu`.
      for (const name of new Set([controllers, 'cpu'])) {
        for (const dir of upTo(join(mount, name), path)) {
          const q = quotaV1(readOrUndefined(join(dir, 'cpu.cfs_quota_us')), readOrUndefined(join(dir, 'cpu.cfs_period_us')));
          if (q !== undefined) quotas.push(q);
        }
      }
    }
  }
  return quotas.length > 0 ? Math.min(...quotas) : undefined;
}

/**
 * The CPUs this process may use: the CPUs it may run on (`os.availableParallelism()`), fewer when a
 * cgroup quota allows less (rounded down: 1.5 CPUs keep one core busy, not two), at least 1.
 */
export function usableCpus(root = '/', parallelism = availableParallelism()): number {
  const quota = cgroupCpuQuota(root);
  const cpus = quota === undefined ? parallelism : Math.min(parallelism, Math.floor(quota));
  return Math.max(1, cpus);
}

/**
 * `harvgen build`'s default `--jobs` for `sites` sites: 1 (compile in process) on up to 2 usable
 * CPUs, where V8's own threads (garbage collection, the optimizing compiler) already keep the
 * second core busy (measured: a second worker gave 1.00-1.13x on 2 cores), or for a single site,
 * which one worker compiles no faster than the main thread; otherwise one worker per usable CPU
 * but one (the main thread writes), and no more than there are sites.
 */
export function defaultJobs(sites: number, cpus?: number): number {
  // A single site asks nothing of the machine (the cgroup files are read only for a choice).
  if (sites <= 1) return 1;
  const usable = cpus ?? usableCpus();
  if (usable <= 2) return 1;
  return Math.min(usable - 1, sites);
}
