/**
 * Artifacts as graphs: an index -> its manifests -> each manifest's config and layers. `walk`
 * lists every node from a root descriptor; `copyArtifact` copies one between two stores (a
 * registry repository or an OCI layout) children first, blobs before the manifests that name
 * them, with bounded concurrency, skipping what the destination has and mounting across
 * repositories of one registry instead of uploading.
 */
import type { Readable } from 'node:stream';
import { DEFAULT_ACCEPT, type Registry } from './client.ts';
import { checkDescriptor, INDEX_MEDIA_TYPE, type Descriptor } from './descriptor.ts';
import { OciLayout } from './layout.ts';
import { isDigest, sha256Digest } from './ref.ts';

/** Media types that are manifests (walked into) rather than blobs. */
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

/** Where artifacts are: one registry repository, or one OCI layout. */
export type Store =
  | { readonly kind: 'registry'; readonly registry: Registry; readonly repository: string }
  | { readonly kind: 'layout'; readonly layout: OciLayout };

/** A registry repository as a store. */
export function registryStore(registry: Registry, repository: string): Store {
  return { kind: 'registry', registry, repository };
}
/** An OCI layout as a store. */
export function layoutStore(layout: OciLayout): Store {
  return { kind: 'layout', layout };
}

/** Bounds of a walk or copy. */
export interface GraphLimits {
  /** Largest manifest (default 4 MiB). */
  readonly maxManifestBytes?: number;
  /** Largest blob (default 64 GiB). */
  readonly maxBlobBytes?: number;
  /** Most nodes in one artifact (default 100,000). */
  readonly maxNodes?: number;
}

/** One node of an artifact: a manifest with its bytes, or a blob. */
export interface GraphNode {
  readonly descriptor: Descriptor;
  /** Manifest bytes (undefined for a blob). */
  readonly bytes?: Buffer;
  /** Digests of the children (manifests: config, layers, or the index's manifests). */
  readonly children: readonly string[];
}

/** Every node reachable from `root`, each once, children before parents. */
export async function walk(store: Store, root: Descriptor, limits: GraphLimits = {}): Promise<GraphNode[]> {
  const maxNodes = limits.maxNodes ?? 100_000;
  const seen = new Map<string, GraphNode>();
  const order: GraphNode[] = [];
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (seen.has(d.digest)) return;
    if (seen.size >= maxNodes) throw new GraphError(`the artifact has more than ${maxNodes} parts`);
    if (depth > 8) throw new GraphError(`the artifact nests indexes more than 8 deep at ${d.digest}`);
    if (!MANIFEST_TYPES.has(d.mediaType)) {
      const node = { descriptor: d, children: [] };
      seen.set(d.digest, node);
      order.push(node);
      return;
    }
    const placeholder: GraphNode = { descriptor: d, children: [] };
    seen.set(d.digest, placeholder);
    const bytes = await getManifest(store, d, limits.maxManifestBytes);
    const children = childrenOf(bytes, d);
    for (const c of children) await visit(c, depth + 1);
    const node: GraphNode = { descriptor: d, bytes, children: children.map((c) => c.digest) };
    seen.set(d.digest, node);
    order.push(node);
  };
  await visit(root, 0);
  return order;
}

/** A malformed artifact. */
export class GraphError extends Error {
  override name = 'GraphError';
}

/** The descriptors a manifest or index points at. */
export function childrenOf(bytes: Buffer, d: Descriptor): Descriptor[] {
  let doc: { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    throw new GraphError(`manifest ${d.digest} is not JSON`);
  }
  if (doc === null || typeof doc !== 'object' || doc.schemaVersion !== 2)
    throw new GraphError(`manifest ${d.digest} is not schemaVersion 2`);
  if (typeof doc.mediaType === 'string' && doc.mediaType !== d.mediaType)
    throw new GraphError(`manifest ${d.digest} says it is ${doc.mediaType}, its descriptor ${d.mediaType}`);
  const where = (k: string) => `manifest ${d.digest} ${k}`;
  if (Array.isArray(doc.manifests)) return doc.manifests.map((m, i) => checkDescriptor(m, where(`manifests[${i}]`)));
  const out: Descriptor[] = [];
  if (doc.config !== undefined) out.push(checkDescriptor(doc.config, where('config')));
  if (Array.isArray(doc.layers)) doc.layers.forEach((l, i) => out.push(checkDescriptor(l, where(`layers[${i}]`))));
  return out;
}

async function getManifest(store: Store, d: Descriptor, max = 4 * 1024 * 1024): Promise<Buffer> {
  if (d.size > max) throw new GraphError(`manifest ${d.digest} is ${d.size} bytes, more than ${max}`);
  let bytes: Buffer;
  if (store.kind === 'registry')
    bytes = (await store.registry.getManifest(store.repository, d.digest, [d.mediaType, ...DEFAULT_ACCEPT], { maxBytes: max })).bytes;
  else bytes = await store.layout.readBlob(d.digest, { maxBytes: max });
  if (sha256Digest(bytes) !== d.digest) throw new GraphError(`manifest ${d.digest} does not hash to its digest`);
  if (bytes.length !== d.size) throw new GraphError(`manifest ${d.digest} is ${bytes.length} bytes, its descriptor says ${d.size}`);
  return bytes;
}

/** The descriptor of a manifest given by its bytes. */
export function manifestDescriptor(bytes: Uint8Array, annotations?: Record<string, string>): Descriptor {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown; artifactType?: unknown };
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : INDEX_MEDIA_TYPE;
  return {
    mediaType,
    digest: sha256Digest(bytes),
    size: bytes.length,
    ...(typeof doc.artifactType === 'string' ? { artifactType: doc.artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** Options of copyArtifact. */
export interface CopyOptions extends GraphLimits {
  /** Tags (or layout reference names) to give the root in the destination. */
  readonly tags?: readonly string[];
  /** Transfers (and manifest look-ups) at once (default 4). */
  readonly concurrency?: number;
  /**
   * Walk and check every node even below a manifest the destination already has (default
   * false: a manifest present in the destination is taken as complete, since a registry accepts
   * a manifest only when everything it names is there, and layouts are written children first).
   */
  readonly full?: boolean;
}

/** What a copy did. */
export interface CopyResult {
  readonly root: Descriptor;
  /** Manifests looked at (below a present manifest nothing is looked at). */
  readonly manifests: number;
  /** Manifests the destination had (their subtrees not walked). */
  readonly manifestsPresent: number;
  readonly manifestsWritten: number;
  /** Blobs looked at. */
  readonly blobs: number;
  readonly blobsCopied: number;
  readonly blobsSkipped: number;
  readonly blobsMounted: number;
  readonly bytesCopied: number;
}

/**
 * Copy the artifact rooted at `root` from `src` to `dst`. A manifest the destination has is not
 * walked into (unless `full`); blobs the destination has are skipped; between two repositories
 * of one registry client blobs are mounted; every byte read is checked against its digest.
 * Blobs go first, then manifests children first, the root last, then the tags.
 */
export async function copyArtifact(src: Store, dst: Store, root: Descriptor, options: CopyOptions = {}): Promise<CopyResult> {
  const maxBlob = options.maxBlobBytes ?? 64 * 1024 ** 3;
  const maxNodes = options.maxNodes ?? 100_000;
  const concurrency = options.concurrency ?? 4;
  const seen = new Set<string>();
  const blobs: Descriptor[] = [];
  const manifests: GraphNode[] = [];
  let manifestsPresent = 0;
  let manifestsLooked = 0;
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    if (seen.size > maxNodes) throw new GraphError(`the artifact has more than ${maxNodes} parts`);
    if (depth > 8) throw new GraphError(`the artifact nests indexes more than 8 deep at ${d.digest}`);
    if (!MANIFEST_TYPES.has(d.mediaType)) {
      if (d.size > maxBlob) throw new GraphError(`blob ${d.digest} is ${d.size} bytes, more than the ${maxBlob} allowed`);
      blobs.push(d);
      return;
    }
    manifestsLooked++;
    if (!options.full && (await hasManifest(dst, d))) {
      manifestsPresent++;
      return;
    }
    const bytes = await getManifest(src, d, options.maxManifestBytes);
    const children = childrenOf(bytes, d);
    await pool(children, concurrency, (c) => visit(c, depth + 1));
    manifests.push({ descriptor: d, bytes, children: children.map((c) => c.digest) });
  };
  await visit(root, 0);
  let blobsCopied = 0;
  let blobsSkipped = 0;
  let blobsMounted = 0;
  let bytesCopied = 0;
  let manifestsWritten = 0;
  await pool(blobs, concurrency, async (d) => {
    const outcome = await copyBlob(src, dst, d, maxBlob);
    if (outcome === 'skipped') blobsSkipped++;
    else if (outcome === 'mounted') blobsMounted++;
    else {
      blobsCopied++;
      bytesCopied += d.size;
    }
  });
  // Children before parents: `manifests` is in completion order of the walk.
  for (const n of manifests) if (await putManifest(dst, n, options.full === true)) manifestsWritten++;
  let rootBytes: Buffer | undefined = manifests.find((m) => m.descriptor.digest === root.digest)?.bytes;
  for (const tag of options.tags ?? []) {
    if (dst.kind === 'registry') {
      rootBytes ??= await getManifest(src, root, options.maxManifestBytes);
      await dst.registry.putManifest(dst.repository, tag, root.mediaType, rootBytes);
    } else await dst.layout.setRef(tag, root);
  }
  return {
    root,
    manifests: manifestsLooked,
    manifestsPresent,
    manifestsWritten,
    blobs: blobs.length,
    blobsCopied,
    blobsSkipped,
    blobsMounted,
    bytesCopied,
  };
}

async function hasManifest(dst: Store, d: Descriptor): Promise<boolean> {
  if (dst.kind === 'layout') return dst.layout.hasBlob(d.digest);
  return dst.registry.hasManifest(dst.repository, d.digest, [d.mediaType]);
}

async function copyBlob(src: Store, dst: Store, d: Descriptor, maxBlob: number): Promise<'copied' | 'skipped' | 'mounted'> {
  if (dst.kind === 'layout') {
    if (await dst.layout.hasBlob(d.digest)) return 'skipped';
    await dst.layout.writeBlobStream(d.digest, await openSource(src, d, maxBlob), d.size);
    return 'copied';
  }
  if (src.kind === 'registry' && src.registry === dst.registry && src.repository !== dst.repository) {
    const r = await dst.registry.mountBlob(dst.repository, d.digest, src.repository, async () => bufferedBody(src, d, maxBlob));
    return r === 'mounted' ? 'mounted' : r === 'skipped' ? 'skipped' : 'copied';
  }
  const r = await dst.registry.pushBlob(dst.repository, d.digest, { size: d.size, open: () => openSource(src, d, maxBlob) });
  return r === 'skipped' ? 'skipped' : 'copied';
}

async function openSource(src: Store, d: Descriptor, maxBlob: number): Promise<Readable> {
  if (src.kind === 'registry') return src.registry.openBlob(src.repository, d.digest, { maxBytes: maxBlob, size: d.size });
  return src.layout.openBlob(d.digest);
}

async function bufferedBody(src: Store, d: Descriptor, maxBlob: number): Promise<Buffer> {
  if (src.kind === 'registry') return src.registry.getBlob(src.repository, d.digest, { maxBytes: Math.min(maxBlob, d.size) });
  return src.layout.readBlob(d.digest, { maxBytes: maxBlob });
}

async function putManifest(dst: Store, n: GraphNode, check: boolean): Promise<boolean> {
  const d = n.descriptor;
  if (check && (await hasManifest(dst, d))) return false;
  if (dst.kind === 'layout') await dst.layout.writeBlob(n.bytes!);
  else await dst.registry.putManifest(dst.repository, d.digest, d.mediaType, n.bytes!);
  return true;
}

/** Run `fn` over `items`, at most `limit` at a time; the first failure stops new work and is thrown. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        if (failed === undefined) failed = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Resolve a tag (or digest) of a store to the root descriptor. */
export async function resolveRoot(store: Store, reference: string): Promise<Descriptor> {
  if (store.kind === 'layout') return store.layout.resolve(reference);
  if (isDigest(reference)) {
    const m = await store.registry.getManifest(store.repository, reference, DEFAULT_ACCEPT);
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  }
  const r = await store.registry.resolve(store.repository, reference);
  if (!MANIFEST_TYPES.has(r.mediaType)) {
    const m = await store.registry.getManifest(store.repository, r.digest, DEFAULT_ACCEPT);
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  }
  return r;
}
