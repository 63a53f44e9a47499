// What can be known of another process, to tell a live holder from a dead one: whether its pid
// runs, when it started (/proc/<pid>/stat field 22, so a reused pid is told apart), the boot it
// belongs to, and whether its command line can be a harvgen's.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** True when `pid` runs (a process of another user too). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let procSelf: boolean | undefined;
/** True when this system has a Linux /proc showing this process. */
export function procVisible(): boolean {
  if (procSelf === undefined) {
    try {
      readFileSync(`/proc/${process.pid}/stat`, 'utf8');
      procSelf = true;
    } catch {
      procSelf = false;
    }
  }
  return procSelf;
}

/** Start time of process `pid` (field 22 of /proc/<pid>/stat), `hidden` when it exists but /proc does not show it, undefined when it does not exist. */
export function processStart(pid: number): string | 'hidden' | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    // /proc mounted with hidepid: another user's process is invisible but alive.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && processAlive(pid) && procVisible() ? 'hidden' : undefined;
  }
  // Field 2 (the command name) is in parentheses and may hold spaces and ')': fields 3... follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3];
}

/** /proc/sys/kernel/random/boot_id of this boot (Linux), or undefined. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when a command line (/proc/<pid>/cmdline, NUL-separated) can be a harvgen: run by Node.js
 * (argv[0] is `node`, `nodejs`, `node20`, ... or this process's own executable) or naming harvgen.
 */
export function harvgenCommand(argv: readonly string[]): boolean {
  if (argv.length === 0 || argv[0] === '') return false;
  const exe = basename(argv[0]!);
  return /^node(js)?[0-9.]*(\.exe)?$/i.test(exe) || exe === basename(process.execPath) || argv.some((a) => /harvgen/i.test(a));
}

/** The command line of `pid`, or undefined when it cannot be read (then it is not judged). */
export function commandOf(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}
