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
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { codeContent } from '../cache/code.ts';
import { inventoryInput } from '../cache/inputs.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { MAX_BOUND_INPUT, stampsHold, type InputStamp } from '../load/stamps.ts';
import type { SigningKey } from '../sign/key.ts';
import { readBounded } from '../util/read-bounded.ts';
import { regularFile } from '../util/lstat.ts';
import { jsonBlob, sha256 } from './artifact.ts';
import { touches, type GitChanges } from './git-changes.ts';
import { FLEET_STATE_REPOSITORY, MEDIA } from './media.ts';

export { FLEET_STATE_REPOSITORY };
import { readRecordText } from './record.ts';
import type { Sink, Source } from './sink.ts';
import type { PublishRunOptions, PublishSite } from './types.ts';

export const FLEET_STATE_TAG = 'state';
export const FLEET_STATE_MEDIA = {
  artifact: 'application/vnd.harvgen.fleet-state.v1',
  layer: 'application/vnd.harvgen.fleet-state.v1+json+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;
/** Largest fleet state read: its manifest, its compressed layer, and the layer unpacked. */
const MAX_MANIFEST = 64 * 1024;
const MAX_LAYER = 64 * 1024 * 1024;
const MAX_UNPACKED = 256 * 1024 * 1024;
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
  /** Where the signing key is read again: a file from the top, or a variable. */
  readonly signing: { readonly file: string } | { readonly env: string };
  /** `[path from the top, HMAC]` of each input that is not YAML inventory. */
  readonly bound: readonly (readonly [string, string])[];
  /** `[variable, HMAC]` of each secret read from the environment. */
  readonly env: readonly (readonly [string, string])[];
  /** `[path below the release mirror, size]` of each release file published with it. */
  readonly release_files: readonly (readonly [string, number])[];
  readonly published: {
    readonly repository: string;
    readonly digest: string;
    readonly tag: string;
    readonly tags: readonly string[];
    readonly files: { readonly public: number; readonly sealed: number };
    readonly nodes: number;
    readonly diagnostics: readonly Diagnostic[];
  };
}

/** The record field that names an entry: `sha256:<hex>` of its text. */
export const entryDigest = (text: string): string => sha256(Buffer.from(text, 'utf8'));

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

/** What makes a site's entry, after it was published. */
export interface EntryInput {
  readonly dir: string;
  readonly site: string;
  readonly at: { readonly top: string; readonly head: string };
  readonly options: Pick<PublishRunOptions, 'cwd' | 'env' | 'registry' | 'releasesDir'>;
  readonly signing: SigningKey;
  readonly inputs: readonly InputStamp[];
  readonly envNames: readonly string[];
  readonly paths: readonly string[];
  readonly watched: readonly string[];
  readonly releases: readonly InputStamp[];
  readonly published: StateEntry['published'];
}

/**
 * The entry's text, or undefined when it cannot vouch for the site: an input outside the work
 * tree, one changed since it was read or too large to hash, a signing key that cannot be read
 * again, a secret variable gone.
 */
export function makeEntry(input: EntryInput): string | undefined {
  const { top } = input.at;
  const dir = fromTop(top, resolve(input.dir));
  const cwdAbs = resolve(input.options.cwd ?? process.cwd());
  const cwd = cwdAbs === top ? '' : fromTop(top, cwdAbs);
  const ref = input.signing.ref;
  const signingFile = ref && 'file' in ref ? fromTop(top, ref.file) : undefined;
  if (dir === undefined || cwd === undefined || ref === undefined || ('file' in ref && signingFile === undefined)) return undefined;
  const key = fleetKey(input.signing.text);
  const inventory = inventoryInput(resolve(input.dir));
  const bound: [string, string][] = [];
  for (const stamp of input.inputs) {
    const [path, size] = stamp;
    if (size < 0 || inventory(path) || statSync(path, { throwIfNoEntry: false })?.isFile() !== true) continue;
    const rel = fromTop(top, path);
    if (rel === undefined || size > MAX_BOUND_INPUT || !stampsHold([stamp])) return undefined;
    const bytes = readBounded(path, size, { follow: true });
    if (!bytes) return undefined;
    bound.push([rel, mac(key, 'file', rel, bytes)]);
  }
  const env: [string, string][] = [];
  const values = input.options.env ?? process.env;
  for (const name of input.envNames) {
    const value = values[name];
    if (value === undefined) return undefined;
    env.push([name, mac(key, 'env', name, value)]);
  }
  const mirror = input.options.releasesDir ? resolve(input.options.releasesDir) : undefined;
  const releaseFiles: [string, number][] = [];
  for (const [path, size] of input.releases) {
    const rel = mirror !== undefined ? fromTop(mirror, path) : undefined;
    if (rel === undefined) return undefined;
    releaseFiles.push([rel, size]);
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
    watched: input.watched,
    signing: 'file' in ref ? { file: signingFile! } : { env: ref.env },
    bound: bound.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    env: env.sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    release_files: releaseFiles.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
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
  const mirror = options.releasesDir ? resolve(options.releasesDir) : undefined;
  for (const [rel, size] of entry.release_files) {
    const st = mirror !== undefined ? regularFile(join(mirror, rel)) : undefined;
    if (st?.size !== size) return 'a release file changed';
  }
  return undefined;
}

/** The read and write side of a namespace's state repository (a registry's Sink and Source). */
type StateStore = Pick<Sink, 'putBlob' | 'putManifest' | 'resolveTag'> & Pick<Source, 'getManifest' | 'getBlob'>;

/** A state store of a sink, when it can be read too (a registry); undefined for a layout. */
export function stateStore(sink: Sink): StateStore | undefined {
  const s = sink as Sink & Partial<Source>;
  return typeof s.getManifest === 'function' && typeof s.getBlob === 'function' ? (s as StateStore) : undefined;
}

/** `<namespace>` of a repository `<namespace>/<site>`. */
export const namespaceOf = (repository: string): string => repository.replace(/\/[^/]+$/, '');

/** Entries by site name: text as stored. */
type Entries = Map<string, string>;

/** A namespace's state as read: undefined when there is none or it cannot be read (then every site compiles). */
async function readState(store: StateStore): Promise<Entries | undefined> {
  try {
    const digest = await store.resolveTag(FLEET_STATE_TAG);
    if (digest === undefined) return undefined;
    const manifest = JSON.parse((await store.getManifest(digest, MAX_MANIFEST)).toString('utf8')) as {
      artifactType?: unknown;
      layers?: { mediaType?: unknown; digest?: unknown; size?: unknown }[];
    };
    const layer = manifest.layers?.[0];
    if (manifest.artifactType !== FLEET_STATE_MEDIA.artifact || layer?.mediaType !== FLEET_STATE_MEDIA.layer) return undefined;
    if (typeof layer.digest !== 'string' || typeof layer.size !== 'number' || layer.size > MAX_LAYER) return undefined;
    const body = gunzipSync(await store.getBlob(layer.digest, MAX_LAYER), { maxOutputLength: MAX_UNPACKED });
    const doc = JSON.parse(body.toString('utf8')) as { format?: unknown; entries?: unknown };
    if (doc.format !== 1 || typeof doc.entries !== 'object' || doc.entries === null || Array.isArray(doc.entries)) return undefined;
    const entries: Entries = new Map();
    for (const [site, text] of Object.entries(doc.entries)) if (typeof text === 'string') entries.set(site, text);
    return entries;
  } catch {
    return undefined;
  }
}

/** Write a namespace's state: its layer, an empty config, the manifest tagged `state`. */
async function writeState(store: StateStore, entries: Entries): Promise<void> {
  const sorted = Object.fromEntries([...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  const layer = gzipSync(jsonBlob({ entries: sorted, format: 1 }), { level: 6 });
  const config = Buffer.from('{}');
  const layerDigest = sha256(layer);
  const configDigest = sha256(config);
  await store.putBlob(configDigest, config);
  await store.putBlob(layerDigest, layer);
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    artifactType: FLEET_STATE_MEDIA.artifact,
    config: { mediaType: FLEET_STATE_MEDIA.empty, digest: configDigest, size: config.length },
    layers: [{ mediaType: FLEET_STATE_MEDIA.layer, digest: layerDigest, size: layer.length }],
  });
  await store.putManifest(FLEET_STATE_TAG, MEDIA.manifest, manifest);
}

/**
 * The fleet states of one publish run: read once per namespace at the start (the namespaces the
 * committed records name, or `--registry`), looked up by site directory, changed by the sites the
 * run publishes, and written back once per namespace at the end, merged into what is there then.
 */
export class FleetStates {
  readonly #stores: (namespace: string) => StateStore | undefined;
  readonly #read = new Map<string, Promise<Entries | undefined>>();
  readonly #changes = new Map<string, Map<string, string | null>>();
  #byDir: Promise<Map<string, { namespace: string; text: string }>> | undefined;
  constructor(stores: (namespace: string) => StateStore | undefined) {
    this.#stores = stores;
  }

  /** Start reading these namespaces' states (each once). */
  load(namespaces: Iterable<string>): void {
    for (const ns of namespaces) {
      if (this.#read.has(ns)) continue;
      const store = this.#stores(ns);
      this.#read.set(ns, store ? readState(store) : Promise.resolve(undefined));
    }
  }

  /** The entry of the site in `dir` (from the work tree's top), with its namespace; undefined when none. */
  async entryFor(dir: string): Promise<{ namespace: string; text: string } | undefined> {
    this.#byDir ??= (async () => {
      const byDir = new Map<string, { namespace: string; text: string }>();
      for (const [namespace, read] of this.#read) {
        for (const text of (await read)?.values() ?? []) {
          try {
            const dir = (JSON.parse(text) as { dir?: unknown }).dir;
            if (typeof dir === 'string') byDir.set(dir, { namespace, text });
          } catch {
            // not an entry: the site compiles
          }
        }
      }
      return byDir;
    })();
    return (await this.#byDir).get(dir);
  }

  /** Set (or, with null, drop) a site's entry in a namespace; written by `save`. */
  set(namespace: string, site: string, text: string | null): void {
    let m = this.#changes.get(namespace);
    if (!m) this.#changes.set(namespace, (m = new Map()));
    m.set(site, text);
  }

  /** Write each changed namespace's state, merged into what it holds now; a warning for one that could not be written. */
  async save(): Promise<Diagnostic[]> {
    const problems: Diagnostic[] = [];
    for (const [namespace, changes] of this.#changes) {
      const store = this.#stores(namespace);
      if (!store) continue;
      try {
        const entries = (await readState(store)) ?? new Map<string, string>();
        let changed = false;
        for (const [site, text] of changes) {
          if (text === null ? entries.delete(site) : entries.get(site) !== text) changed = true;
          if (text !== null) entries.set(site, text);
        }
        if (changed) await writeState(store, entries);
      } catch (e) {
        problems.push({
          code: 'PUBLISH_STATE_NOT_SAVED',
          severity: 'warning',
          message: `the fleet state of ${namespace} was not written (${(e as Error).message}): the sites published are published, and the next run compiles them again`,
          hint: `Check that your credentials may push to ${namespace}/${FLEET_STATE_REPOSITORY}.`,
        });
      }
    }
    return problems;
  }
}

/** The namespaces of the committed records in `recordDir` that name an entry (with `--registry`, that one alone). */
export function recordedNamespaces(recordDir: string, registry: string | undefined): string[] {
  if (registry !== undefined) return [registry];
  const out = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(recordDir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  for (const name of names) {
    const record = parseRecord(readRecordText(join(recordDir, name)));
    if (record?.state !== undefined) out.add(namespaceOf(record.repository));
  }
  return [...out].sort();
}

/** The fields of a committed record this module reads, or undefined. */
function parseRecord(text: string | undefined): { repository: string; digest: string; state?: string } | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as { repository?: unknown; digest?: unknown; state?: unknown };
    if (typeof r.repository !== 'string' || typeof r.digest !== 'string') return undefined;
    return { repository: r.repository, digest: r.digest, ...(typeof r.state === 'string' ? { state: r.state } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * A site answered from its entry in the fleet state, not compiled and with no request of its own:
 * undefined unless the committed record names this very entry (and its digest) and entryChanged
 * finds nothing.
 */
export async function answerFromState(
  dir: string,
  states: FleetStates,
  options: Pick<PublishRunOptions, 'cwd' | 'env' | 'registry' | 'releasesDir' | 'recordDir'>,
  git: GitChanges,
): Promise<PublishSite | undefined> {
  const top = git.toplevel(resolve(dir));
  const rel = top !== undefined ? fromTop(top, resolve(dir)) : undefined;
  if (top === undefined || rel === undefined || options.recordDir === null) return undefined;
  const found = await states.entryFor(rel);
  if (!found) return undefined;
  let entry: StateEntry;
  try {
    entry = JSON.parse(found.text) as StateEntry;
  } catch {
    return undefined;
  }
  if (entry.format !== 1 || typeof entry.site !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(entry.site)) return undefined;
  const recordDir = resolve(options.cwd ?? process.cwd(), options.recordDir ?? 'published');
  const record = parseRecord(readRecordText(join(recordDir, `${entry.site}.json`)));
  const p = entry.published;
  if (record?.state !== entryDigest(found.text) || record.digest !== p.digest || record.repository !== p.repository) return undefined;
  if (entryChanged(entry, top, options, git) !== undefined) return undefined;
  return {
    dir,
    site: entry.site,
    repository: p.repository,
    digest: p.digest,
    tags: p.tags,
    files: p.files,
    nodes: p.nodes,
    previous: p.digest,
    unchanged: true,
    diagnostics: p.diagnostics,
  };
}
