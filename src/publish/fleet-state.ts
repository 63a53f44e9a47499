// Publish's fleet state (docs/fleet.md, "A fleet publish that needs no cache"): what the registry
// records of every site published into one namespace, one artifact for the whole namespace
// (`<namespace>/harvgen-fleet:state`), so that a run that starts with no cache at all (a fresh CI
// runner) answers a site whose inputs did not change without compiling it, and any run does so
// without one registry request per site.
//
// An entry per site: what the compile read (the tracked inputs and the HEAD they were committed
// at, as git names them; every other input file (secret files, user-data, iPXE binaries) and
// environment secret as an HMAC under a key derived from the site's signing key, which only the
// publisher holds: no boot server and no registry reader can test a guess of a secret against
// it), the harvgen that built it (by content), the options it was published with, and what was
// published. Trust comes from git, not from the registry: the committed fleet record
// (`published/<site>.json`) names the SHA-256 of its site's entry (`state`); an entry that does
// not hash to it is no entry. So nothing a registry holds can make publish skip a site whose
// inputs changed; at worst a site is compiled.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { codeContent } from '../cache/code.ts';
import { inventoryInput } from '../cache/inputs.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { MAX_BOUND_INPUT, stampsHold, type InputStamp } from '../load/stamps.ts';
import type { SigningKey } from '../sign/key.ts';
import { readBounded } from '../util/read-bounded.ts';
import { sha256 } from './artifact.ts';
import { touches, type GitChanges } from './git-changes.ts';
import { FLEET_STATE_REPOSITORY } from '../types/registry.ts';
import { entryDigest, readState, saveNamespace, type StateRead, type StateStore } from './fleet-store.ts';

export { FLEET_STATE_REPOSITORY };
export { entryDigest, FLEET_STATE_MEDIA, FLEET_STATE_TAG, namespaceOf, STATE_SHARDS, stateStore } from './fleet-store.ts';
import { parseRecord, recordDigest } from './record.ts';
export { recordedStates, recordDigest } from './record.ts';
import type { PublishRunOptions, PublishSite } from './types.ts';
import { answeredSite } from './remembered.ts';
import type { PublishedAnswer } from './state.ts';

/** Largest signing key read again (as the compile reads it: a secret file). */
const MAX_KEY = 64 * 1024;

/** One site's entry, as JSON text in the state (its SHA-256 is in the committed record). */
export interface StateEntry {
  readonly format: 1;
  readonly site: string;
  /** The site directory, the working directory (its diagnostics' paths), from the work tree's top. */
  readonly dir: string;
  readonly cwd: string;
  /** `--registry` (or ''), and whether release files were published (`--releases`). */
  readonly registry: string;
  readonly releases: boolean;
  /** codeContent(): the harvgen that built it. */
  readonly code: string;
  /** HEAD before the site was compiled; the tracked inputs and every input git could report a change of. */
  readonly head: string;
  readonly paths: readonly string[];
  readonly watched: readonly string[];
  /** Inputs looked for and not found (a layer made later, even where git ignores it, is a change). */
  readonly absent: readonly string[];
  /** The directories listed (the site's tree) and the SHA-256 of their listings: a file added where git ignores it is a change. */
  readonly dirs: readonly string[];
  readonly listing: string;
  /** Where the signing key is read again: a file from the top, or a variable. */
  readonly signing: { readonly file: string } | { readonly env: string };
  /** `[path from the top, HMAC]` of each input git does not track as it was read (secret files, user-data, ignored or linked inventory). */
  readonly bound: readonly (readonly [string, string])[];
  /** `[variable, HMAC]` of each secret read from the environment. */
  readonly env: readonly (readonly [string, string])[];
  /** Stamps of the release files published with it (`[path below the mirror, size, mtime, ctime, inode]`): on another machine they compile. */
  readonly release_files: readonly (readonly [string, number, number, number, number])[];
  /** SHA-256 of the committed record's text without its `state`: the record is the one it wrote. */
  readonly record: string;
  readonly published: PublishedAnswer;
}

/** The key the entry's HMACs are made with: derived from the signing key's text. */
function fleetKey(signingText: string): Buffer {
  return createHmac('sha256', signingText).update('harvgen publish fleet state 1').digest();
}

const mac = (key: Buffer, kind: string, name: string, value: string | Uint8Array) =>
  createHmac('sha256', key).update(`${kind}\0${name}\0`).update(value).digest('hex');

const fromTop = (top: string, path: string): string | undefined => {
  const rel = relative(top, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : rel.split(sep).join('/');
};

const byFirst = <T extends readonly unknown[]>(a: T, b: T) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0);

/** SHA-256 of the listings of `dirs` (from the top): the names in each, sorted; undefined when one cannot be listed. */
function listingOf(top: string, dirs: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(join(top, d)).sort();
    } catch {
      return undefined;
    }
    hash.update(`${d}\0${names.join('\0')}\n`);
  }
  return hash.digest('hex');
}

/** What makes a site's entry, after it was published. */
export interface EntryInput {
  readonly dir: string;
  readonly site: string;
  readonly at: { readonly top: string; readonly head: string };
  readonly options: Pick<PublishRunOptions, 'cwd' | 'env' | 'registry' | 'releasesDir'>;
  readonly git: Pick<GitChanges, 'tracked'>;
  readonly signing: SigningKey;
  readonly inputs: readonly InputStamp[];
  readonly envNames: readonly string[];
  readonly paths: readonly string[];
  readonly watched: readonly string[];
  readonly releases: readonly InputStamp[];
  /** The record's text as written, without `state`. */
  readonly record: string;
  readonly published: StateEntry['published'];
}

/**
 * The entry's text, or undefined when it cannot vouch for the site: an input outside the work
 * tree, one changed since it was read (or racy) or too large to hash, a directory that cannot be
 * listed, a signing key that cannot be read again, a secret variable gone.
 */
export function makeEntry(input: EntryInput): string | undefined {
  try {
    return entryText(input);
  } catch {
    return undefined; // a file gone or a directory turned into a file meanwhile: no entry
  }
}

function entryText(input: EntryInput): string | undefined {
  const { top } = input.at;
  const dir = fromTop(top, resolve(input.dir));
  const cwdAbs = resolve(input.options.cwd ?? process.cwd());
  const cwd = cwdAbs === top ? '' : fromTop(top, cwdAbs);
  const ref = input.signing.ref;
  const signingFile = ref && 'file' in ref ? fromTop(top, ref.file) : undefined;
  const tracked = input.git.tracked(top);
  if (dir === undefined || cwd === undefined || ref === undefined || tracked === undefined) return undefined;
  if ('file' in ref && signingFile === undefined) return undefined;
  const key = fleetKey(input.signing.text);
  const inventory = inventoryInput(resolve(input.dir));
  const bound: [string, string][] = [];
  const absent: string[] = [];
  const dirs: string[] = [];
  for (const stamp of input.inputs) {
    const [path, size] = stamp;
    const rel = fromTop(top, path);
    if (rel === undefined || size === -2) return undefined; // outside the work tree, or racy: nothing to vouch for
    if (size === -1) {
      absent.push(rel);
      continue;
    }
    const st = statSync(path);
    if (st.isDirectory()) {
      dirs.push(rel);
      continue;
    }
    // YAML inventory git tracks, read where git has it (no link on the way): git answers for it.
    if (inventory(path) && tracked.has(rel) && realpathSync(path) === path) continue;
    if (!st.isFile() || size > MAX_BOUND_INPUT) return undefined;
    const bytes = readBounded(path, size, { follow: true });
    // Read, then checked against its stamp: the bytes bound are the bytes the compile read.
    if (!bytes || !stampsHold([stamp])) return undefined;
    bound.push([rel, mac(key, 'file', rel, bytes)]);
  }
  dirs.sort();
  const listing = listingOf(top, dirs);
  if (listing === undefined) return undefined;
  const env: [string, string][] = [];
  const values = input.options.env ?? process.env;
  for (const name of input.envNames) {
    const value = values[name];
    if (value === undefined) return undefined;
    env.push([name, mac(key, 'env', name, value)]);
  }
  const mirror = input.options.releasesDir ? resolve(input.options.releasesDir) : undefined;
  const releaseFiles: [string, number, number, number, number][] = [];
  for (const [path, size, mtime, ctime, ino] of input.releases) {
    const rel = mirror !== undefined ? fromTop(mirror, path) : undefined;
    if (rel === undefined || size < 0) return undefined;
    releaseFiles.push([rel, size, mtime, ctime, ino]);
  }
  const entry: StateEntry = {
    format: 1,
    site: input.site,
    dir,
    cwd,
    registry: input.options.registry ?? '',
    releases: mirror !== undefined,
    code: codeContent(),
    head: input.at.head,
    paths: input.paths,
    watched: [...new Set([...input.watched, ...absent])].sort(),
    absent: [...new Set(absent)].sort(),
    dirs,
    listing,
    signing: 'file' in ref ? { file: signingFile! } : { env: ref.env },
    bound: bound.sort(byFirst),
    env: env.sort(byFirst),
    release_files: releaseFiles.sort(byFirst),
    record: sha256(Buffer.from(input.record, 'utf8')),
    published: input.published,
  };
  return JSON.stringify(entry);
}

/** The signing key read again from where the entry says (bounded, a regular file inside the top), or undefined. */
function signingText(top: string, ref: StateEntry['signing'], env: Readonly<Record<string, string | undefined>>): string | undefined {
  if ('env' in ref) return typeof ref.env === 'string' ? env[ref.env] : undefined;
  if (typeof ref.file !== 'string') return undefined;
  const path = join(top, ref.file);
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size > MAX_KEY || fromTop(top, path) !== ref.file) return undefined;
  const bytes = readBounded(path, st.size, { follow: true });
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Why a site's entry does not answer it (a short reason), or undefined when it does: it is the
 * one the committed record names, this harvgen and these options built it, no commit since its
 * HEAD and no uncommitted change touched a tracked input, and every other input and environment
 * secret still has the content it had.
 */
export function entryChanged(
  entry: StateEntry,
  top: string,
  options: Pick<PublishRunOptions, 'cwd' | 'env' | 'registry' | 'releasesDir'>,
  git: GitChanges,
): string | undefined {
  if (entry.code !== codeContent()) return 'another harvgen';
  const cwdAbs = resolve(options.cwd ?? process.cwd());
  if ((cwdAbs === top ? '' : fromTop(top, cwdAbs)) !== entry.cwd) return 'another working directory';
  if ((options.registry ?? '') !== entry.registry || (options.releasesDir !== undefined) !== entry.releases) return 'other options';
  const touched = git.touchedSince(top, entry.head);
  if (touched === undefined) return 'git cannot tell what changed since';
  if (touches(touched, entry.paths)) return 'a commit changed an input';
  const changes = git.changes(top);
  if (changes === undefined) return 'git cannot tell what changed since';
  if (touches(changes, entry.watched)) return 'an input has uncommitted changes';
  const env = options.env ?? process.env;
  const signing = signingText(top, entry.signing, env);
  if (signing === undefined) return 'the signing key cannot be read';
  const key = fleetKey(signing);
  for (const [rel, recorded] of entry.bound) {
    const path = join(top, rel);
    const st = statSync(path, { throwIfNoEntry: false });
    const bytes = st?.isFile() && st.size <= MAX_BOUND_INPUT ? readBounded(path, st.size, { follow: true }) : undefined;
    if (!bytes || !same(mac(key, 'file', rel, bytes), recorded)) return 'an input changed';
  }
  for (const [name, recorded] of entry.env) {
    const value = env[name];
    if (value === undefined || !same(mac(key, 'env', name, value), recorded)) return 'a secret in the environment changed';
  }
  for (const rel of entry.absent) if (lstatSync(join(top, rel), { throwIfNoEntry: false })) return 'an input was made';
  if (listingOf(top, entry.dirs) !== entry.listing) return 'a file was added or removed';
  const mirror = options.releasesDir ? resolve(options.releasesDir) : undefined;
  const releases = entry.release_files.map(([rel, ...stamp]): InputStamp => [join(mirror ?? '/nonexistent', rel), ...stamp]);
  if (!stampsHold(releases)) return 'a release file changed';
  return undefined;
}

/**
 * The fleet states of one publish run: read once per namespace at the start (the namespaces the
 * committed records name, or `--registry`), only the entries those records name kept, looked up
 * by site directory, changed by the sites the run publishes, and written back once per namespace
 * at the end, merged into what is there then (and again if another run wrote in between).
 */
export class FleetStates {
  readonly #stores: (namespace: string) => StateStore | undefined;
  readonly #read = new Map<string, Promise<StateRead>>();
  readonly #changes = new Map<string, Map<string, string | null>>();
  /** The committed records as read at the start, by site (a site's record is written only by its own publish, later). */
  #records: ReadonlyMap<string, string> = new Map();
  #byDir: Promise<Map<string, { namespace: string; text: string; entry: StateEntry }>> | undefined;

  constructor(stores: (namespace: string) => StateStore | undefined) {
    this.#stores = stores;
  }

  /** Start reading these namespaces' states (each once), keeping the entries whose digest is in `named`; `records` are the committed records' texts. */
  load(namespaces: Iterable<string>, named: ReadonlySet<string>, records: ReadonlyMap<string, string>): void {
    this.#records = records;
    for (const ns of namespaces) {
      if (this.#read.has(ns)) continue;
      const store = this.#stores(ns);
      this.#read.set(ns, store ? readState(store, named) : Promise.resolve({ kind: 'absent' }));
    }
  }

  /** The entry of the site in `dir` (from the work tree's top), with its namespace; undefined when none. */
  async entryFor(dir: string): Promise<{ namespace: string; text: string; entry: StateEntry } | undefined> {
    this.#byDir ??= (async () => {
      const byDir = new Map<string, { namespace: string; text: string; entry: StateEntry }>();
      for (const [namespace, pending] of this.#read) {
        const read = await pending;
        for (const text of read.kind === 'read' ? read.entries.values() : []) {
          try {
            const entry = JSON.parse(text) as StateEntry;
            if (typeof entry.dir === 'string') byDir.set(entry.dir, { namespace, text, entry });
          } catch {
            // not an entry: the site compiles
          }
        }
      }
      return byDir;
    })();
    return (await this.#byDir).get(dir);
  }

  /** The committed record of `site` as read at the start, if any. */
  recordText(site: string): string | undefined {
    return this.#records.get(site);
  }

  /** Set (or, with null, drop) a site's entry in a namespace; written by `save`. */
  set(namespace: string, site: string, text: string | null): void {
    let m = this.#changes.get(namespace);
    if (!m) this.#changes.set(namespace, (m = new Map()));
    m.set(site, text);
  }

  /** Write each changed namespace's state, merged into what it holds now (fleet-store.ts saveNamespace); a warning for each that was not simply written. */
  async save(): Promise<Diagnostic[]> {
    const problems: Diagnostic[] = [];
    for (const [namespace, changes] of this.#changes) {
      const store = this.#stores(namespace);
      const problem = store ? await saveNamespace(store, namespace, changes) : undefined;
      if (problem) problems.push(problem);
    }
    return problems;
  }
}

/**
 * A site answered from its entry in the fleet state, not compiled and with no request of its own:
 * undefined unless the committed record names this very entry (and is the record it wrote) and
 * entryChanged finds nothing. Never throws: any doubt compiles the site.
 */
export async function answerFromState(
  dir: string,
  states: FleetStates,
  options: Pick<PublishRunOptions, 'cwd' | 'env' | 'registry' | 'releasesDir' | 'recordDir'>,
  git: GitChanges,
): Promise<PublishSite | undefined> {
  try {
    const top = git.toplevel(resolve(dir));
    const rel = top !== undefined ? fromTop(top, resolve(dir)) : undefined;
    if (top === undefined || rel === undefined || options.recordDir === null) return undefined;
    const found = await states.entryFor(rel);
    if (!found) return undefined;
    const { entry } = found;
    if (entry.format !== 1 || typeof entry.site !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(entry.site)) return undefined;
    // The committed record as read at the start (recordedStates): a site's record is written only by its own publish.
    const record = parseRecord(states.recordText(entry.site));
    const p = entry.published;
    if (record?.state !== entryDigest(found.text) || record.digest !== p.digest || record.repository !== p.repository) return undefined;
    if (recordDigest(record.text) !== entry.record) return undefined;
    if (entryChanged(entry, top, options, git) !== undefined) return undefined;
    return answeredSite(dir, entry.site, p);
  } catch {
    return undefined;
  }
}
