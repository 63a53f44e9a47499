/**
 * Network namespaces created by the tests. All traffic of a namespace stays inside it: it has
 * only `lo` and the interfaces the test adds (a tap for QEMU), and no route out of the machine.
 */
import { spawnSync } from 'node:child_process';
import { run, describe, showCmd } from './proc.ts';

/** Namespaces not deleted yet; removed synchronously if the process exits early. */
const live = new Set<string>();
process.on('exit', () => {
  for (const name of live) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 5000 });
});

/** A namespace this process created; delete() removes it (idempotent). */
export interface Netns {
  name: string;
  /** argv prefix that runs a command inside the namespace (`ip netns exec <name>`). */
  exec(argv: readonly string[]): string[];
  /** Run a command inside; throws with its output when it fails. */
  sh(argv: readonly string[]): Promise<string>;
  delete(): Promise<void>;
}

let counter = 0;

/** Create a fresh namespace with `lo` up. The name is unique per process and call. */
export async function createNetns(label: string): Promise<Netns> {
  const name = `hgt-${label}-${process.pid}-${++counter}`.slice(0, 60);
  await must(['ip', 'netns', 'add', name]);
  live.add(name);
  let deleted = false;
  const ns: Netns = {
    name,
    exec: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    async sh(argv) {
      return must(['ip', 'netns', 'exec', name, ...argv]);
    },
    async delete() {
      if (deleted) return;
      deleted = true;
      const r = await run(['ip', 'netns', 'delete', name], { timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`could not delete netns ${name}\n${describe(r)}`);
      live.delete(name);
    },
  };
  try {
    await ns.sh(['ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await ns.delete();
    throw err;
  }
  return ns;
}

/** Run a namespace-scoped async function and always delete the namespace afterwards. */
export async function withNetns<T>(label: string, fn: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = await createNetns(label);
  try {
    return await fn(ns);
  } finally {
    await ns.delete();
  }
}

async function must(argv: readonly string[]): Promise<string> {
  const r = await run(argv, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`command failed: ${showCmd(argv)}\n${describe(r)}`);
  return r.stdout;
}
