// The CPUs harvgen may use (src/util/cpus.ts) read from fake cgroup trees (a root directory with
// proc/self/cgroup and sys/fs/cgroup/... under it), and the default --jobs built on them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupCpuQuota, defaultJobs, usableCpus } from '../src/util/cpus.ts';
import { tempDir } from './helpers/tmp.ts';

/** A fake root: each key a path under it, each value the file's text. */
function fakeRoot(files: Record<string, string>): string {
  const root = tempDir('cpus');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('v2: the smallest quota of the own cgroup and its parents, nested below the mount', () => {
  const root = fakeRoot({
    'proc/self/cgroup': '0::/kubepods.slice/pod1/ctr\n',
    'sys/fs/cgroup/kubepods.slice/cpu.max': '800000 100000\n',
    // The pod's limit is below the slice's and above the container's own (none here): 2.5 wins.
    'sys/fs/cgroup/kubepods.slice/pod1/cpu.max': '250000 100000\n',
    'sys/fs/cgroup/kubepods.slice/pod1/ctr/cpu.max': 'max 100000\n',
  });
  assert.is(cgroupCpuQuota(root), 2.5);
  assert.is(usableCpus(root, 16), 2);
});

test('v2: a quota deeper in the tree than its parent is the one that counts', () => {
  const root = fakeRoot({
    'proc/self/cgroup': '0::/a/b\n',
    'sys/fs/cgroup/a/cpu.max': '400000 100000\n',
    'sys/fs/cgroup/a/b/cpu.max': '150000 100000\n',
  });
  assert.is(cgroupCpuQuota(root), 1.5);
  // Rounded down: 1.5 CPUs keep one core busy.
  assert.is(usableCpus(root, 16), 1);
});

test('v2: the mount root own cpu.max counts (a container in its own cgroup namespace)', () => {
  const root = fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': '300000 100000\n' });
  assert.is(cgroupCpuQuota(root), 3);
  assert.is(usableCpus(root, 8), 3);
});

test('v2: `max` is no limit: the CPUs the process may run on', () => {
  const root = fakeRoot({
    'proc/self/cgroup': '0::/user.slice\n',
    'sys/fs/cgroup/cpu.max': 'max 100000\n',
    'sys/fs/cgroup/user.slice/cpu.max': 'max 100000\n',
  });
  assert.is(cgroupCpuQuota(root), undefined);
  assert.is(usableCpus(root, 12), 12);
});

test('a quota above the CPUs the process may run on leaves those', () => {
  const root = fakeRoot({ 'proc/self/cgroup': '0::/x\n', 'sys/fs/cgroup/x/cpu.max': '3200000 100000\n' });
  assert.is(cgroupCpuQuota(root), 32);
  assert.is(usableCpus(root, 4), 4);
});

test('a quota under one CPU still leaves one', () => {
  const root = fakeRoot({ 'proc/self/cgroup': '0::/x\n', 'sys/fs/cgroup/x/cpu.max': '50000 100000\n' });
  assert.is(cgroupCpuQuota(root), 0.5);
  assert.is(usableCpus(root, 4), 1);
});

test('v1: cfs_quota_us over cfs_period_us of the cpu controller, its parents too; -1 is no limit', () => {
  const root = fakeRoot({
    'proc/self/cgroup': '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us': '600000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us': '100000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '-1\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    // The memory controller's files are no CPU quota.
    'sys/fs/cgroup/memory/docker/abc/cpu.cfs_quota_us': '100000\n',
    'sys/fs/cgroup/memory/docker/abc/cpu.cfs_period_us': '100000\n',
  });
  assert.is(cgroupCpuQuota(root), 6);
  assert.is(usableCpus(root, 16), 6);
});

test('v1: the controller mounted as `cpu` alone', () => {
  const root = fakeRoot({
    'proc/self/cgroup': '3:cpuacct,cpu:/job\n',
    'sys/fs/cgroup/cpu/job/cpu.cfs_quota_us': '200000\n',
    'sys/fs/cgroup/cpu/job/cpu.cfs_period_us': '50000\n',
  });
  assert.is(cgroupCpuQuota(root), 4);
});

test('missing files: no quota, and no error', () => {
  assert.is(cgroupCpuQuota(fakeRoot({})), undefined);
  assert.is(cgroupCpuQuota(join(fakeRoot({}), 'no-such-dir')), undefined);
  // A cgroup named with no cpu.max anywhere, and a v1 quota without its period.
  const root = fakeRoot({
    'proc/self/cgroup': '0::/gone\n5:cpu:/half\n',
    'sys/fs/cgroup/cpu/half/cpu.cfs_quota_us': '100000\n',
  });
  assert.is(cgroupCpuQuota(root), undefined);
  assert.is(usableCpus(root, 6), 6);
});

test('garbage in the files is no quota', () => {
  for (const text of ['', 'max', '150000', 'abc 100000', '150000 0', '0 100000', '1.5 1', '150000 100000 7', '-5 100000']) {
    const root = fakeRoot({ 'proc/self/cgroup': '0::/x\n', 'sys/fs/cgroup/x/cpu.max': text });
    assert.is(cgroupCpuQuota(root), undefined, JSON.stringify(text));
  }
  const v1 = fakeRoot({
    'proc/self/cgroup': 'not a cgroup line\n2:cpu:/x\n',
    'sys/fs/cgroup/cpu/x/cpu.cfs_quota_us': 'lots\n',
    'sys/fs/cgroup/cpu/x/cpu.cfs_period_us': '100000\n',
  });
  assert.is(cgroupCpuQuota(v1), undefined);
});

test('a cgroup path with `..` is not read above the mount', () => {
  const root = fakeRoot({
    'proc/self/cgroup': '0::/../../etc\n',
    'sys/etc/cpu.max': '100000 100000\n',
    'etc/cpu.max': '100000 100000\n',
  });
  assert.is(cgroupCpuQuota(root), undefined);
});

test('this machine: at least one CPU, never more than it may run on', () => {
  const n = usableCpus();
  assert.ok(Number.isInteger(n) && n >= 1 && n <= availableParallelism(), String(n));
});

test('the default --jobs: 1 on 2 CPUs or fewer or for one site; else a worker per CPU but one, at most one per site', () => {
  assert.is(defaultJobs(100, 1), 1);
  assert.is(defaultJobs(100, 2), 1);
  assert.is(defaultJobs(1, 16), 1);
  assert.is(defaultJobs(0, 16), 1);
  assert.is(defaultJobs(100, 3), 2);
  assert.is(defaultJobs(100, 16), 15);
  assert.is(defaultJobs(4, 16), 4);
  assert.is(defaultJobs(2, 16), 2);
  // The quota, not the host's cores: 1.5 CPUs of 16 compile in process.
  const root = fakeRoot({ 'proc/self/cgroup': '0::/c\n', 'sys/fs/cgroup/c/cpu.max': '150000 100000\n' });
  assert.is(defaultJobs(100, usableCpus(root, 16)), 1);
});

test.run();
