// Who besides its owner may read or write a private key file. ssh refuses a key file that you
// own and that its group or other users may access at all ("UNPROTECTED PRIVATE KEY FILE",
// sshkey_perm_ok in OpenSSH's authfile.c: `st_uid == getuid() && (st_mode & 077) != 0`), and says
// nothing of a key another user owns (it was given to you on purpose). harvgen judges the keys it
// reads from files the same way, per key:
// - the signing key (`signing.private_key`) is an SSH key: ssh's rule exactly, an error
//   (SECRET_KEY_UNPROTECTED), so that harvgen never signs with a key `ssh-keygen -Y sign` would refuse;
// - the other keys (`publish.key`, `publish.cosign_key`, `nginx.file_key`): a file others may
//   write is an error (whoever writes it chooses the key: the registry then holds files sealed
//   for them), one they may only read a warning (SECRET_KEY_READABLE; `--strict` fails on it):
//   their own tools (openssl, cosign) never refuse such a file, and a CI job that writes a key
//   from its secret store (`echo "$KEY" > secrets/publish.key`) gets umask 022's 0644 on a
//   machine that often has no other user.
// A file that someone else owns and its group or others may write is an error whatever the key:
// ssh lets it pass, but anyone who may write it chooses the key.
import { relative } from 'node:path';

/** What a key file holds: an SSH key (ssh's rule), or another private key. */
export type KeyKind = 'ssh' | 'other';

/** What a key file's mode gives away, when it gives away anything. */
export interface KeyModeProblem {
  readonly code: 'SECRET_KEY_UNPROTECTED' | 'SECRET_KEY_READABLE';
  readonly severity: 'error' | 'warning';
  /** `mode 0644: its group and every other user can read it`. */
  readonly what: string;
}

/** The fields of fs.Stats the judgement reads. */
interface ModeStat {
  readonly mode: number;
  readonly uid: number;
}

/**
 * The problem of a key file's mode, or undefined. `uid` is this process's user (undefined where
 * there is none, on Windows: no POSIX modes, nothing to judge).
 */
export function keyModeProblem(st: ModeStat, kind: KeyKind, uid: number | undefined = process.getuid?.()): KeyModeProblem | undefined {
  if (uid === undefined) return undefined;
  const mine = st.uid === uid;
  const writable = (st.mode & 0o022) !== 0;
  const open = (st.mode & 0o077) !== 0;
  if (!open || (!mine && !writable)) return undefined;
  const what = `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: ${accessOf(st.mode)}`;
  const refused = writable || kind === 'ssh';
  return refused ? { code: 'SECRET_KEY_UNPROTECTED', severity: 'error', what } : { code: 'SECRET_KEY_READABLE', severity: 'warning', what };
}

/** Who besides its owner may do what to a file of this mode: `its group can read it, every other user can read and write it`. */
export function accessOf(mode: number): string {
  const words = (bits: number) =>
    (
      [
        [4, 'read'],
        [2, 'write'],
        [1, 'execute'],
      ] as const
    )
      .filter(([b]) => (bits & b) !== 0)
      .map(([, w]) => w);
  const parts: string[] = [];
  const group = words((mode >> 3) & 7);
  const other = words(mode & 7);
  if (group.length > 0) parts.push(`its group can ${group.join(' and ')} it`);
  if (other.length > 0) parts.push(`every other user can ${other.join(' and ')} it`);
  return parts.join(', ');
}

/** The shell's way to the file from `cwd` (relative when below it), quoted when it needs it: for `chmod 600 <path>`. */
export function shellPath(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  const p = rel !== '' && !rel.startsWith('..') ? rel : abs;
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** The message and hint of a key file's problem: `where` is its key (`publish.key`), `written` the path as the inventory writes it. */
export function keyModeText(
  p: KeyModeProblem,
  f: { readonly where: string; readonly written: string; readonly abs: string; readonly cwd: string; readonly kind: KeyKind },
): { message: string; hint: string } {
  const chmod = `\`chmod 600 ${shellPath(f.abs, f.cwd)}\``;
  const why =
    f.kind === 'ssh'
      ? 'ssh refuses such a key as unprotected, and so does harvgen'
      : p.severity === 'error'
        ? 'whoever may write it chooses the key'
        : 'on a machine other people use, they can read the key';
  return {
    message: `${f.where} comes from the file ${f.written}, ${p.what}: ${why}`,
    hint: `Make it readable and writable by its owner only: ${chmod} (and write new keys with \`umask 077\`). A key others could read may have left: on a shared machine, make a new one.`,
  };
}
