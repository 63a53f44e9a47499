// A baseline run as a shell command: its wall time and its CPU time (user + system of the shell's
// children, from bash's `times`), and what it printed before that. For the fleet benches' baselines
// (rsync, zcat | awk, curl), which are no Node processes to put a preload in.
import { spawnSync } from 'node:child_process';

/** Seconds of a `times` figure such as `0m1.234s`. */
const seconds = (t: string) => {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
};

/** Run `script` (with `args` as $1...) under bash; throws with its stderr when it fails. */
export function shellTimed(script: string, args: readonly string[]): { s: number; cpuS: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `${script} && times`, 'bench', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${script.slice(0, 80)}: exit ${r.status}: ${r.stderr}`);
  // `times` prints the shell's own user and system time, then its children's: the last line.
  const lines = r.stdout.trimEnd().split('\n');
  const [user, system] = lines.at(-1)!.split(/\s+/).map(seconds) as [number, number];
  return { s, cpuS: user + system, stdout: lines.slice(0, -2).join('\n') };
}
