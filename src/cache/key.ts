// The key that makes harvgen's build state unforgeable from the output directory. The up-to-date
// records live in `<out>/.harvgen-cache/`, which anyone who can write to the output can rewrite;
// each record therefore carries an HMAC-SHA256 under a key that lives outside every output
// directory, in the user's cache directory (`$XDG_CACHE_HOME/harvgen/state-key`, else
// `~/.cache/harvgen/state-key`): 32 random bytes, created once, mode 0600 in a 0700 directory
// owned by the user. A record whose MAC does not verify (forged, rewritten, copied from another
// machine or user) is no record: the site is compiled. Without a usable key (no writable home, a
// key file someone else can read or write) nothing is trusted and nothing is recorded: every
// build compiles, which costs time and never correctness. ARCHITECTURE.md, "Up-to-date check".
import { eachUtf8Chunk } from '../util/utf8-chunks.ts';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, linkSync, lstatSync, mkdirSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { openNoFollow } from '../util/read-fd.ts';

const KEY_BYTES = 32;
const KEY_FILE = 'state-key';

/** Where the key lives: `$XDG_CACHE_HOME/harvgen` (when absolute), else `~/.cache/harvgen`. */
export function stateKeyDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'harvgen');
  let home: string;
  try {
    home = homedir();
  } catch {
    return undefined;
  }
  return home && isAbsolute(home) ? join(home, '.cache', 'harvgen') : undefined;
}

let cached: { readonly key: Buffer | undefined } | undefined;

const uid = (): number | undefined => process.getuid?.();

/** A directory only this user can change (not a link, owned by the user, no group or other write). */
function privateDir(dir: string): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) return false;
  const me = uid();
  return (me === undefined || st.uid === me) && (st.mode & 0o022) === 0;
}

/** The key in `file` when it is a regular file of the user, readable by nobody else, of the right size. */
function readKey(file: string): Buffer | undefined {
  const fd = openNoFollow(file);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    const me = uid();
    if (!st.isFile() || st.size !== KEY_BYTES || (st.mode & 0o077) !== 0 || (me !== undefined && st.uid !== me)) return undefined;
    const key = Buffer.alloc(KEY_BYTES);
    return readSync(fd, key, 0, KEY_BYTES, 0) === KEY_BYTES ? key : undefined;
  } finally {
    closeSync(fd);
  }
}

/** A fresh key, written whole to a private temp name and put in place by `link` (never half-written, never over another's). */
function createKey(dir: string, file: string, replace: boolean): void {
  const temp = join(dir, `.${KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(temp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  try {
    if (replace) renameSync(temp, file);
    else linkSync(temp, file); // EEXIST: another harvgen made one first; that one is used
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}

function loadKey(): Buffer | undefined {
  const dir = stateKeyDir();
  if (dir === undefined) return undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateDir(dir)) return undefined;
    const file = join(dir, KEY_FILE);
    const key = readKey(file);
    if (key) return key;
    // Missing, or not private any more (someone else may know it): a new one. Records made
    // under the old key stop verifying, so those sites compile once.
    createKey(dir, file, lstatSync(file, { throwIfNoEntry: false }) !== undefined);
    return readKey(file);
  } catch {
    return undefined;
  }
}

/** The state key of this user, or undefined when there is none that can be trusted (then nothing is cached). */
export function stateKey(): Buffer | undefined {
  cached ??= { key: loadKey() };
  return cached.key;
}

/** HMAC-SHA256 (hex) of `data` for `purpose` under the state key; undefined without a key. */
export function stateMac(purpose: string, data: string | Uint8Array): string | undefined {
  const key = stateKey();
  if (!key) return undefined;
  const mac = createHmac('sha256', key).update(`harvgen ${purpose}\0`);
  // A text through the reused buffer (a record is megabytes: src/util/utf8-chunks.ts).
  if (typeof data === 'string') eachUtf8Chunk(data, (bytes) => mac.update(bytes));
  else mac.update(data);
  return mac.digest('hex');
}

/** True when `mac` is the state MAC of `data` for `purpose` (constant-time comparison). */
export function macHolds(purpose: string, data: string | Uint8Array, mac: string): boolean {
  const want = stateMac(purpose, data);
  if (want === undefined || typeof mac !== 'string') return false;
  // Compared as bytes of one length: a MAC line with other than ASCII in it is no MAC, not a crash.
  const a = Buffer.from(want);
  const b = Buffer.from(mac);
  return a.length === b.length && timingSafeEqual(a, b);
}
