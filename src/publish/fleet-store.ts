// The registry side of publish's fleet state (src/publish/fleet-state.ts, docs/dev/fleet-format.md):
// one artifact per namespace, `<namespace>/harvgen-fleet:state`, its entries in STATE_SHARDS
// layers by the site name's hash; read bounded, told apart from a registry that does not answer,
// and written back merged into what is there, never over a state that could not be read.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Diagnostic } from '../diagnostics/types.ts';
import { RegistryError } from '../oci/errors.ts';
import { jsonBlob, sha256 } from './artifact.ts';
import { MEDIA } from './media.ts';
import { FLEET_STATE_REPOSITORY } from '../types/registry.ts';
import type { Sink, Source } from './sink.ts';

/** The record field that names an entry: `sha256:<hex>` of its text. */
export const entryDigest = (text: string): string => sha256(Buffer.from(text, 'utf8'));

export const FLEET_STATE_TAG = 'state';
export const FLEET_STATE_MEDIA = {
  artifact: 'application/vnd.harvgen.fleet-state.v1',
  layer: 'application/vnd.harvgen.fleet-state.v1+json+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;
/** Entries are kept in this many layers (by the SHA-256 of the site's name): a run that changed one site uploads one. */
export const STATE_SHARDS = 16;
/** Largest fleet state read: its manifest, each compressed layer, each layer unpacked, its entries. */
const MAX_MANIFEST = 64 * 1024;
const MAX_LAYER = 16 * 1024 * 1024;
const MAX_UNPACKED = 64 * 1024 * 1024;
const MAX_ENTRIES = 65_536;

/** The read and write side of a namespace's state repository (a registry's Sink and Source). */
export type StateStore = Pick<Sink, 'putBlob' | 'putManifest' | 'resolveTag'> & Pick<Source, 'getManifest' | 'getBlob'>;

/** A state store of a sink, when it can be read too (a registry); undefined for a layout. */
export function stateStore(sink: Sink): StateStore | undefined {
  const s = sink as Sink & Partial<Source>;
  return typeof s.getManifest === 'function' && typeof s.getBlob === 'function' ? (s as StateStore) : undefined;
}

/** `<namespace>` of a repository `<namespace>/<site>`. */
export const namespaceOf = (repository: string): string => repository.replace(/\/[^/]+$/, '');

/** Entries by site name: text as stored. */
export type Entries = Map<string, string>;

/** The shard (layer) of a site's entry. */
export const shardOf = (site: string): number => createHash('sha256').update(site).digest()[0]! % STATE_SHARDS;

/** A namespace's state as read: its entries and layers. */
interface ReadState {
  readonly kind: 'read';
  readonly entries: Entries;
  /** Each shard's layer, as the manifest names it. */
  readonly layers: readonly { readonly digest: string; readonly size: number }[];
}

/**
 * What reading a namespace's state gave: the state; none (no tag); one that is not a fleet state
 * (malformed, past a bound: a run may write it anew); or no answer (the registry failed, timed
 * out, refused: what it holds is unknown, so it is never written over).
 */
export type StateRead = ReadState | { readonly kind: 'absent' } | { readonly kind: 'invalid' | 'unreadable'; readonly why: string };

/** An error of the store: the registry answered and what it holds is unusable (invalid), or it did not answer (unreadable). */
function failure(e: unknown): StateRead {
  const why = e instanceof Error ? e.message : String(e);
  const kind =
    e instanceof RegistryError && (['digest', 'size', 'protocol'].includes(e.kind) || e.status === 404) ? 'invalid' : 'unreadable';
  return { kind, why };
}

const invalid = (why: string): StateRead => ({ kind: 'invalid', why });

/** Read a namespace's state: every entry, or with `keep`, only those whose digest it holds (what the committed records name). */
export async function readState(store: StateStore, keep?: ReadonlySet<string>): Promise<StateRead> {
  let manifest: { artifactType?: unknown; layers?: { mediaType?: unknown; digest?: unknown; size?: unknown }[] };
  try {
    const digest = await store.resolveTag(FLEET_STATE_TAG);
    if (digest === undefined) return { kind: 'absent' };
    const bytes = await store.getManifest(digest, MAX_MANIFEST);
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as typeof manifest;
    } catch {
      return invalid('its manifest is not JSON');
    }
  } catch (e) {
    return failure(e);
  }
  const layers = manifest.layers;
  if (manifest.artifactType !== FLEET_STATE_MEDIA.artifact || !Array.isArray(layers) || layers.length !== STATE_SHARDS)
    return invalid('not a fleet state');
  for (const l of layers)
    if (l.mediaType !== FLEET_STATE_MEDIA.layer || typeof l.digest !== 'string' || typeof l.size !== 'number' || l.size > MAX_LAYER)
      return invalid('a layer that is not one of a fleet state');
  const digests = layers.map((l) => l.digest as string);
  // Each distinct layer once, all at once.
  let bodies: Map<string, Buffer>;
  try {
    bodies = new Map(await Promise.all([...new Set(digests)].map(async (d) => [d, await store.getBlob(d, MAX_LAYER)] as const)));
  } catch (e) {
    return failure(e);
  }
  const entries: Entries = new Map();
  let seen = 0;
  try {
    for (const body of bodies.values()) {
      const doc = JSON.parse(gunzipSync(body, { maxOutputLength: MAX_UNPACKED }).toString('utf8')) as {
        format?: unknown;
        entries?: unknown;
      };
      if (doc.format !== 1 || typeof doc.entries !== 'object' || doc.entries === null || Array.isArray(doc.entries))
        return invalid('a layer that is not one of a fleet state');
      for (const [site, text] of Object.entries(doc.entries)) {
        if (++seen > MAX_ENTRIES) return invalid(`more than ${MAX_ENTRIES} entries`);
        if (typeof text === 'string' && (keep === undefined || keep.has(entryDigest(text)))) entries.set(site, text);
      }
    }
  } catch (e) {
    return invalid((e as Error).message);
  }
  return { kind: 'read', entries, layers: layers.map((l) => ({ digest: l.digest as string, size: l.size as number })) };
}

/** The layer of one shard's entries. */
function shardLayer(entries: Entries, shard: number): Buffer {
  const mine = [...entries].filter(([site]) => shardOf(site) === shard).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return gzipSync(jsonBlob({ entries: Object.fromEntries(mine), format: 1 }), { level: 6 });
}

/** Write a namespace's state: the layers of the shards `changed` (the others are there already), an empty config, the manifest tagged `state`. */
export async function writeState(
  store: StateStore,
  entries: Entries,
  before: ReadState['layers'] | undefined,
  changed: ReadonlySet<number>,
): Promise<void> {
  const config = Buffer.from('{}');
  const configDigest = sha256(config);
  await store.putBlob(configDigest, config);
  const layers: { digest: string; size: number }[] = [];
  const put = new Set<string>();
  for (let shard = 0; shard < STATE_SHARDS; shard++) {
    if (before !== undefined && !changed.has(shard)) {
      layers.push(before[shard]!);
      continue;
    }
    const layer = shardLayer(entries, shard);
    const digest = sha256(layer);
    if (!put.has(digest)) await store.putBlob(digest, layer);
    put.add(digest);
    layers.push({ digest, size: layer.length });
  }
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    artifactType: FLEET_STATE_MEDIA.artifact,
    config: { mediaType: FLEET_STATE_MEDIA.empty, digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: FLEET_STATE_MEDIA.layer, ...l })),
  });
  await store.putManifest(FLEET_STATE_TAG, MEDIA.manifest, manifest);
}

/**
 * Write a namespace's changes (site -> entry text, or null: dropped) merged into what it holds
 * now, read back, and merged once more when another run wrote meanwhile (at most two writes).
 * What happened, when it is not simply "written": a warning that says whether it was written.
 */
export async function saveNamespace(
  store: StateStore,
  namespace: string,
  changes: ReadonlyMap<string, string | null>,
): Promise<Diagnostic | undefined> {
  let writes = 0;
  for (;;) {
    const now = await readState(store);
    if (now.kind === 'unreadable')
      return writes === 0
        ? notSaved(
            namespace,
            `was not written: what it holds could not be read (${now.why}), and writing it without that would drop the other sites' entries`,
          )
        : notSaved(namespace, `was written, but could not be read back to check that no other publish wrote over it (${now.why})`);
    const read = now.kind === 'read' ? now : undefined;
    const entries: Entries = new Map(read?.entries);
    const shards = new Set<number>();
    for (const [site, text] of changes) {
      if (text === null ? entries.has(site) : entries.get(site) !== text) shards.add(shardOf(site));
      if (text === null) entries.delete(site);
      else entries.set(site, text);
    }
    if (shards.size === 0) return undefined;
    if (writes === MAX_WRITES)
      return notSaved(
        namespace,
        `was written ${writes} times, and each time another publish wrote it again before it was read back: some of this run's entries may be missing`,
      );
    try {
      await writeState(store, entries, read?.layers, read === undefined ? new Set() : shards);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return notSaved(
        namespace,
        writes === 0 ? `was not written (${why})` : `was written, then not written again over another publish's (${why})`,
      );
    }
    writes++;
  }
}

/** Writes of one namespace's state in one run, at most. */
const MAX_WRITES = 2;

function notSaved(namespace: string, what: string): Diagnostic {
  return {
    code: 'PUBLISH_STATE_NOT_SAVED',
    severity: 'warning',
    message: `the fleet state of ${namespace} ${what}: the sites published are published, and a run on another machine may compile them again`,
    hint: `Check that the registry answers and that your credentials may push to ${namespace}/${FLEET_STATE_REPOSITORY}; the next publish writes it.`,
  };
}
