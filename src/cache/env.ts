// Secrets from the environment and the up-to-date check. A deploy build of a site whose token,
// password, file key or signing key comes from `{ env: NAME }` may be skipped only when each
// variable still holds the value the last build wrote into the tree; no stamp covers a variable,
// and neither the value nor anything that makes guessing it cheap may be stored.
//
// Threat model. `<out>/.harvgen-cache/` is git-ignored but readable by whoever can read the
// output on the build machine (the deploy tree next to it holds the token in plain text and the
// password as a SHA-512-crypt hash). The record therefore holds, per variable, only
// `scrypt(value, salt = HMAC(state key, name), N=2^12, r=8)`: keyed by the user's state key
// (src/cache/key.ts, mode 0600 outside every output), so that without it the digest tells
// nothing and cannot be checked against guesses; and memory-hard (4 MiB and about 15 ms per
// guess on one core; cracking rigs test SHA-512-crypt at 5,000 rounds hundreds of times faster),
// so that even someone who also holds the key guesses a low-entropy password no faster than
// from the crypt hash the deploy tree already serves. Never the value, never a fast
// unkeyed hash. Without a state key there is no digest: the site is compiled every time.
// One digest per variable and value per process (100 sites naming one variable cost one).
import { scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { stateMac } from './key.ts';

/** scrypt cost: 2^12 x 8 x 128 bytes = 4 MiB, about 15 ms on one core. */
const SCRYPT = { N: 2 ** 12, r: 8, p: 1, maxmem: 32 * 1024 * 1024 } as const;

/** The last digest per variable in this process (the value stays in memory only, as process.env holds it anyway). */
const memo = new Map<string, { readonly value: string; readonly digest: string }>();

/** The keyed, slow digest of the value of environment variable `name`; undefined without a state key. */
export function envDigest(name: string, value: string): string | undefined {
  const hit = memo.get(name);
  if (hit?.value === value) return hit.digest;
  const salt = stateMac('env-secret', name);
  if (salt === undefined) return undefined;
  const digest = scryptSync(value, salt, 32, SCRYPT).toString('hex');
  memo.set(name, { value, digest });
  return digest;
}

/**
 * The digests of these `[variable, value]` pairs, made on libuv's thread pool and kept for
 * envDigest: started before the up-to-date check reads the file system, each digest's 15 ms run
 * on another core meanwhile (a deploy build that finds its site up to date takes the digest of
 * each secret it read from the environment). Resolves, to how many it made and kept, when all are
 * kept; never rejects (a digest that fails is made again, synchronously, when it is asked for).
 */
export async function prepareEnvDigests(pairs: Iterable<readonly [string, string | undefined]>): Promise<number> {
  const pending: Promise<boolean>[] = [];
  const started = new Set<string>();
  for (const [name, value] of pairs) {
    if (typeof name !== 'string' || value === undefined || value === '' || memo.get(name)?.value === value) continue;
    if (started.has(name)) continue; // one value per variable in a run (the environment is one)
    started.add(name);
    const salt = stateMac('env-secret', name);
    if (salt === undefined) continue;
    pending.push(
      new Promise((done) =>
        scrypt(value, salt, 32, SCRYPT, (err, key) => {
          if (!err) memo.set(name, { value, digest: key.toString('hex') });
          done(!err);
        }),
      ),
    );
  }
  return (await Promise.all(pending)).filter(Boolean).length;
}

/** `[variable, digest]` of each secret read from the environment; undefined when one cannot be digested. */
export function envDigests(values: readonly (readonly [string, string])[]): (readonly [string, string])[] | undefined {
  const out: (readonly [string, string])[] = [];
  for (const [name, value] of values) {
    const d = envDigest(name, value);
    if (d === undefined) return undefined;
    out.push([name, d]);
  }
  return out;
}

/** True when every recorded variable holds the value it held (its digest matches), read from `env`. */
export function envHolds(recorded: readonly (readonly [string, string])[], env: Readonly<Record<string, string | undefined>>): boolean {
  for (const [name, digest] of recorded) {
    const value = env[name];
    if (typeof name !== 'string' || typeof digest !== 'string' || value === undefined || value === '') return false;
    const now = envDigest(name, value);
    if (now === undefined || now.length !== digest.length || !timingSafeEqual(Buffer.from(now), Buffer.from(digest))) return false;
  }
  return true;
}
