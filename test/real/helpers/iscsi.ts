/**
 * A real iSCSI target for the diskless boots of test/real/generic.test.ts: Debian's tgt (`tgtd`,
 * configured with `tgtadm`) inside a lab's network namespace, listening on the portal the
 * generated root path names (e.g. 192.168.122.1:3260). No systemd service and no config file:
 * `tgtd -f` runs in the foreground as a child of the test, with a control port of its own
 * (`-C <port>`: the management socket /var/run/tgtd/socket.<port>, so it never talks to another
 * tgtd on the host), and is shut down through that socket, then by its PID.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { run, describe, startDaemon, waitFor, type Daemon } from './proc.ts';
import type { Netns } from './netns.ts';

/** Programs the iSCSI target needs (Debian: tgt). */
export const TGT_PROGRAMS = ['tgtd', 'tgtadm'] as const;

/** Where tgtd keeps its management sockets (compiled in). */
const TGTD_SOCKET_DIR = '/var/run/tgtd';

/** An iPXE SAN URI `iscsi:<server>:<protocol>:<port>:<lun>:<target>` (RFC 4173), parsed. */
export interface IscsiRootPath {
  server: string;
  port: number;
  lun: number;
  target: string;
}

/** Parse an iPXE iSCSI root path (the target IQN itself holds colons, so it is the rest). */
export function parseIscsiRootPath(uri: string): IscsiRootPath {
  const m = /^iscsi:([^:]+):([^:]*):([^:]*):([^:]*):(.+)$/.exec(uri);
  if (!m) throw new Error(`not an iSCSI root path: ${uri}`);
  return { server: m[1]!, port: m[3] ? Number(m[3]) : 3260, lun: m[4] ? Number(m[4]) : 0, target: m[5]! };
}

/** What the target serves and to whom. */
export interface IscsiTargetOptions {
  /** Address and port tgtd listens on (inside the namespace). */
  portal: { host: string; port: number };
  /** Target IQN. */
  target: string;
  /** LUN of the disk (tgt keeps LUN 0 for its controller, so >= 1). */
  lun: number;
  /** Backing file (a raw image; tgt opens it read-write, so pass a copy). */
  backingFile: string;
  /** Initiator IQNs the target accepts (`tgtadm --op bind --initiator-name`); nobody else may log in. */
  initiators: string[];
}

/** A running target. */
export interface IscsiTarget {
  daemon: Daemon;
  controlPort: number;
  /** `tgtadm --mode target --op show` now (sessions appear under "I_T nexus information"). */
  show(): Promise<string>;
  /** tgtd's own output so far. */
  log(): string;
  /** Shut tgtd down (management socket, then its PID) and remove its socket files. Idempotent. */
  stop(): Promise<void>;
}

let counter = 0;

/** A control port no tgtd on this host uses (its socket file does not exist). */
function freeControlPort(): number {
  for (let i = 0; i < 1000; i++) {
    const port = 1000 + ((process.pid * 7 + ++counter) % 30_000); // tgtd takes at most 32767
    if (!existsSync(`${TGTD_SOCKET_DIR}/socket.${port}`) && !existsSync(`${TGTD_SOCKET_DIR}/socket.${port}.lock`)) return port;
  }
  throw new Error(`no free tgtd control port (${TGTD_SOCKET_DIR} is full of sockets)`);
}

/** Start tgtd in `ns` and configure one target with one LUN and an initiator-name ACL. */
export async function startIscsiTarget(ns: Netns, o: IscsiTargetOptions): Promise<IscsiTarget> {
  if (o.lun < 1) throw new Error(`tgt cannot serve a disk as LUN ${o.lun} (LUN 0 is its controller)`);
  const controlPort = freeControlPort();
  const daemon = startDaemon(
    'tgtd',
    ns.exec(['tgtd', '-f', '-d', '1', '-C', String(controlPort), '--iscsi', `portal=${o.portal.host}:${o.portal.port}`]),
  );
  const adm = async (args: string[], check = true): Promise<string> => {
    const r = await run(['tgtadm', '-C', String(controlPort), '--lld', 'iscsi', ...args], { timeoutMs: 10_000 });
    if (check && r.code !== 0) throw new Error(`tgtadm failed\n${describe(r)}\n--- tgtd ---\n${tail(daemon.output())}`);
    return r.stdout;
  };
  let stopping: Promise<void> | undefined;
  const target: IscsiTarget = {
    daemon,
    controlPort,
    show: () => adm(['--mode', 'target', '--op', 'show'], false),
    log: () => daemon.output(),
    stop() {
      stopping ??= (async () => {
        if (!daemon.exited()) {
          // The orderly way (`tgtadm --op delete --mode system` ends tgtd once no target is left).
          await adm(['--mode', 'target', '--op', 'delete', '--force', '--tid', '1'], false);
          await run(['tgtadm', '-C', String(controlPort), '--mode', 'system', '--op', 'delete'], { timeoutMs: 10_000 });
          await waitFor(() => daemon.exited(), 3000);
        }
        await daemon.stop(1000); // by PID, if it is still there
        for (const f of [`socket.${controlPort}`, `socket.${controlPort}.lock`]) await rm(`${TGTD_SOCKET_DIR}/${f}`, { force: true });
      })();
      return stopping;
    },
  };
  try {
    // Up = the management socket answers and the portal accepts connections in the namespace.
    const up = await waitFor(
      async () => {
        if (daemon.exited()) return 'exited';
        if (!existsSync(`${TGTD_SOCKET_DIR}/socket.${controlPort}`)) return undefined;
        const ss = await run(ns.exec(['ss', '-Htln']), { timeoutMs: 5000 });
        return ss.stdout.includes(`${o.portal.host}:${o.portal.port} `) ? 'up' : undefined;
      },
      10_000,
      100,
    );
    if (up !== 'up')
      throw new Error(
        `tgtd did not start listening on ${o.portal.host}:${o.portal.port} (${up ?? 'timeout'})\n$ ${daemon.cmd}\n${tail(daemon.output())}`,
      );
    await adm(['--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', o.target]);
    await adm(['--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', String(o.lun), '--backing-store', o.backingFile]);
    for (const iqn of o.initiators) await adm(['--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-name', iqn]);
    return target;
  } catch (err) {
    await target.stop();
    throw err;
  }
}

/** The sessions `tgtadm --op show` lists: initiator IQN and the connection's address. */
export function sessionsOf(show: string): { initiator: string; ip?: string }[] {
  const out: { initiator: string; ip?: string }[] = [];
  for (const block of show.split(/^\s*I_T nexus: /m).slice(1)) {
    const initiator = /Initiator: (\S+)/.exec(block)?.[1];
    if (initiator) out.push({ initiator, ip: /IP Address: (\S+)/.exec(block)?.[1] });
  }
  return out;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
