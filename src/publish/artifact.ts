// One site's tree as an OCI artifact (docs/dev/fleet-format.md): the deploy tree's files split
// into a site part and one part per node, each file public (its bytes, addressed by the SHA-256
// manifest.json lists) or sealed (src/publish/seal.ts), and an index over the parts and the
// release parts. Pure: the same trees, key and provenance give the same bytes and digests.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sha256Digest } from '../oci/ref.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { Artifact } from '../render/artifact.ts';
import {
  ANNOTATION,
  GZIP_ABOVE,
  MEDIA,
  PACK_UP_TO,
  SITE_PACK_UP_TO,
  PROVENANCE_SIGNATURE,
  untitledLayer,
  type Descriptor,
  type PartManifest,
  type SiteIndex,
} from './media.ts';
import type { SealedFile, SealKey } from './seal.ts';
import type { Provenance } from './provenance.ts';

/** A blob and its digest. */
export interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}

/** A manifest (a part or the index) as pushed: its bytes, digest and media type. */
export interface ManifestBlob extends Blob {
  readonly mediaType: string;
}

/** A release part, built once per release and referenced by every site that boots it. */
export interface ReleasePart {
  readonly version: string;
  readonly manifest: ManifestBlob;
  /** Its config blob (the layers are release files, pushed from disk by their paths). */
  readonly config: Blob;
  readonly files: readonly { readonly name: string; readonly path: string; readonly digest: string; readonly size: number }[];
}

/** A site's artifact, ready to push. */
export interface SiteArtifact {
  readonly site: string;
  readonly index: ManifestBlob;
  /** The site part first, then the node parts by hostname. */
  readonly parts: readonly ManifestBlob[];
  /** Every blob the parts reference (configs, files, sealed files, the signature), by digest. */
  readonly blobs: ReadonlyMap<string, Buffer>;
  readonly releases: readonly ReleasePart[];
  /** Up to 16 public files for verify --fleet. */
  readonly sample: readonly { readonly path: string; readonly sha256: string; readonly size: number }[];
  /** Files per kind, for the report. */
  readonly counts: { readonly public: number; readonly sealed: number; readonly nodes: number };
}

/** What the artifact is made of. */
export interface ArtifactInput {
  readonly site: string;
  /** The committed tree (secrets as markers): a deploy file equal to its committed twin is public. */
  readonly committed: readonly Artifact[];
  /** The deploy tree, signature included. */
  readonly deploy: readonly Artifact[];
  /** Each node's hostname and boot MACs (`aa:bb:...`), to put its files into its part. */
  readonly nodes: readonly { readonly hostname: string; readonly macs: readonly string[] }[];
  readonly provenance: Provenance;
  /** The provenance's signature (ssh-keygen -Y sign, namespace harvgen-publish). */
  readonly signature: string;
  readonly key: SealKey;
  readonly releases: readonly ReleasePart[];
  /** The git commit (index annotation), when known. */
  readonly commit?: string;
}

/** `sha256:<hex>` of a blob (the OCI client's own digest function). */
export const sha256 = sha256Digest;

const bytesOf = (c: string | Uint8Array): Buffer => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));

/** Serialize JSON with its keys in a fixed order (the objects are built in that order). */
export function jsonBlob(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Build a site's artifact. */
export function buildSiteArtifact(input: ArtifactInput): SiteArtifact {
  const blobs = new Map<string, Buffer>();
  const addBlob = (bytes: Buffer): string => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    return digest;
  };
  const committed = new Map(input.committed.map((a) => [a.path, bytesOf(a.contents)]));
  // The binaries the committed tree lists and does not hold (images, iPXE binaries): public when
  // the committed manifest lists the same bytes (as when it held them: a public layer, shared by
  // digest with every site that has it).
  const listed = committedList(input.committed);
  const listedOnly = listedShas(listed, committed);
  const owner = nodeOwner(input.site, input.nodes);
  // The parts by key: '' the site part, then each node part (a few nodes, nodeParts) in order.
  const groups = new Map<string, Descriptor[]>([['', []]]);
  const members = nodeParts(input.nodes.map((n) => n.hostname));
  const partOf = new Map<string, string>();
  for (const [key, hostnames] of members) {
    groups.set(key, []);
    for (const h of hostnames) partOf.set(h, key);
  }
  const publicFiles: { path: string; sha256: string; size: number }[] = [];
  // A part's small files travel together in one sealed pack: about 5 blobs fewer per node and 10
  // in the site part (two requests each) on a cold publish. A node's edit uploads its pack again
  // (a few KiB); the site part's pack is kept to SITE_PACK_UP_TO, as it is sent again on most
  // edits, and manifest.json and its signature stay layers of their own (pull reads them first).
  const packs = new Map<string, SealedFile[]>();
  let sitePacked = 0;
  const packable = (node: string, path: string, size: number): boolean => {
    if (size > PACK_UP_TO) return false;
    if (node !== '') return true;
    if (path === LAYOUT.manifest || path === LAYOUT.manifestSignature || sitePacked + size > SITE_PACK_UP_TO) return false;
    sitePacked += size;
    return true;
  };
  let sealed = 0;
  for (const a of [...input.deploy].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) {
    const bytes = bytesOf(a.contents);
    const twin = committed.get(a.path);
    const host = owner(a.path);
    const node = host === '' ? '' : partOf.get(host)!;
    const group = groups.get(node)!;
    const isPublic = twin !== undefined ? twin.equals(bytes) : listedOnly.get(a.path) === sha256(bytes).slice(7);
    if (isPublic) publicFiles.push({ path: a.path, sha256: sha256(bytes).slice(7), size: bytes.length });
    if (packable(node, a.path, bytes.length)) {
      if (!isPublic) sealed++;
      const pack = packs.get(node) ?? [];
      packs.set(node, pack);
      pack.push({ path: a.path, mode: a.mode === 0o755 ? 0o755 : 0o644, contents: bytes });
    } else if (isPublic) {
      const digest = sha256(bytes);
      const annotations: Record<string, string> = { [ANNOTATION.title]: a.path };
      if (a.mode === 0o755) annotations[ANNOTATION.mode] = '0755';
      if (bytes.length > GZIP_ABOVE) {
        const gz = gzipSync(bytes, { level: 9 });
        annotations[ANNOTATION.sha256] = digest.slice(7);
        group.push({ mediaType: MEDIA.fileGzip, digest: addBlob(gz), size: gz.length, annotations: sortKeys(annotations) });
      } else {
        group.push({ mediaType: MEDIA.file, digest: addBlob(bytes), size: bytes.length, annotations: sortKeys(annotations) });
      }
    } else {
      sealed++;
      const blob = input.key.seal(a.path, a.mode, bytes);
      group.push({ mediaType: MEDIA.sealed, digest: addBlob(blob), size: blob.length });
    }
  }
  for (const [node, files] of packs) {
    const blob = input.key.sealPack(files); // in path order, as the deploy tree was walked
    groups.get(node)!.push({ mediaType: MEDIA.pack, digest: addBlob(blob), size: blob.length });
  }
  const sig = Buffer.from(input.signature, 'utf8');
  groups.get('')!.push({
    mediaType: MEDIA.signature,
    digest: addBlob(sig),
    size: sig.length,
    annotations: { [ANNOTATION.title]: PROVENANCE_SIGNATURE },
  });
  const provenance = jsonBlob(input.provenance);
  const parts: ManifestBlob[] = [];
  const entries: Descriptor[] = [];
  for (const [node, layers] of groups) {
    const config =
      node === ''
        ? { mediaType: MEDIA.provenance, bytes: provenance }
        : // One config for every node part of a site (one blob, not one per part): the index names each part's nodes.
          { mediaType: MEDIA.partConfig, bytes: jsonBlob({ part: 'node', site: input.site }) };
    const manifest: PartManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      artifactType: MEDIA.part,
      config: { mediaType: config.mediaType, digest: addBlob(config.bytes), size: config.bytes.length },
      layers: sortLayers(layers),
    };
    const bytes = jsonBlob(manifest);
    const m: ManifestBlob = { digest: sha256(bytes), bytes, mediaType: MEDIA.manifest };
    parts.push(m);
    const annotations: Record<string, string> =
      node === '' ? { [ANNOTATION.part]: 'site' } : { [ANNOTATION.nodes]: members.get(node)!.join(' '), [ANNOTATION.part]: 'node' };
    // No artifactType on the entries: skopeo copy --all rewrites an index whose entries carry one (a new digest).
    entries.push({ mediaType: MEDIA.manifest, digest: m.digest, size: bytes.length, annotations });
  }
  for (const r of input.releases)
    entries.push({
      mediaType: MEDIA.manifest,
      digest: r.manifest.digest,
      size: r.manifest.bytes.length,
      annotations: { [ANNOTATION.part]: 'release', [ANNOTATION.release]: r.version },
    });
  const index: SiteIndex = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    artifactType: MEDIA.site,
    manifests: entries,
    annotations: sortKeys({
      [ANNOTATION.site]: input.site,
      ...(input.commit !== undefined ? { [ANNOTATION.revision]: input.commit } : {}),
    }),
  };
  const indexBytes = jsonBlob(index);
  return {
    site: input.site,
    index: { digest: sha256(indexBytes), bytes: indexBytes, mediaType: MEDIA.index },
    parts,
    blobs,
    releases: input.releases,
    sample: samplePublic(publicFiles, openlyServed(listed)),
    counts: { public: publicFiles.length, sealed, nodes: input.nodes.length },
  };
}

/** About this many nodes share a node part (and its pack, sent again when one of them changes). */
export const NODES_PER_PART = 8;

/**
 * The node parts of a site: each part's key and its hostnames, sorted. A node's part is a hash of
 * its hostname modulo a power of two (about NODES_PER_PART nodes a part), so adding or removing a
 * node moves no other node, except when the number of parts doubles or halves. Each part costs a
 * manifest and a pack (three requests on a cold publish); a one-node edit uploads its part's pack.
 */
export function nodeParts(hostnames: readonly string[]): Map<string, string[]> {
  const wanted = Math.ceil(hostnames.length / NODES_PER_PART);
  let count = 1;
  while (count < wanted) count *= 2;
  const byPart = new Map<number, string[]>();
  for (const h of hostnames) {
    const n = createHash('sha256').update(h).digest().readUInt32BE(0) % count;
    const list = byPart.get(n) ?? [];
    byPart.set(n, list);
    list.push(h);
  }
  return new Map(
    [...byPart.entries()].sort(([a], [b]) => a - b).map(([n, list]) => [`nodes-${n}`, list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]),
  );
}

/** The node (a hostname, or '' for the site part) each path of the tree belongs to. */
export function nodeOwner(site: string, nodes: ArtifactInput['nodes']): (path: string) => string {
  const byKey = new Map<string, string>();
  for (const n of nodes) {
    byKey.set(n.hostname, n.hostname);
    byKey.set(`${site}.${n.hostname}`, n.hostname);
    for (const mac of n.macs) byKey.set(mac.toLowerCase().replace(/:/g, '-'), n.hostname);
  }
  return (path) => {
    // The first segment that names a node: `harvester/hv-1.yaml`, `harvester/hv-1-<tag>.yaml`,
    // `ipxe/<mac>.ipxe`, `cloud-init/<mac>-<tag>/user-data`, `dnsmasq/hosts/<site>.<host>`,
    // `media/hv-1.iso` (a node's boot ISO, about 1 MiB: in the site part every edit would upload it).
    for (const seg of path.split('/').slice(1)) {
      const stem = seg.replace(/\.(yaml|ipxe|xml|sh|iso)$/, '');
      const hit = byKey.get(stem) ?? byKey.get(stem.replace(/-[0-9a-fx]{32}$/, ''));
      if (hit !== undefined) return hit;
    }
    return '';
  };
}

/** Public files first by path, then sealed blobs and packs by digest. */
function sortLayers(layers: readonly Descriptor[]): Descriptor[] {
  const key = (d: Descriptor) => (untitledLayer(d) ? `1${d.digest}` : `0${d.annotations?.[ANNOTATION.title] ?? ''}`);
  return [...layers].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The committed tree's manifest.json entries (what listedShas and openlyServed read). */
type ListedFile = { path: string; sha256?: string; url?: string; allow?: unknown };
function committedList(committed: readonly Artifact[]): readonly ListedFile[] {
  const m = committed.find((a) => a.path === 'manifest.json');
  return m ? ((JSON.parse(bytesOf(m.contents).toString('utf8')) as { files?: ListedFile[] }).files ?? []) : [];
}

/** The SHA-256 the committed manifest lists for each file it does not hold. */
function listedShas(files: readonly ListedFile[], held: ReadonlyMap<string, unknown>): ReadonlyMap<string, string> {
  return new Map(files.filter((f) => !held.has(f.path) && typeof f.sha256 === 'string').map((f) => [f.path, f.sha256!]));
}

/** Paths nginx serves to any client (manifest.json: a `url` and no `allow`): what the center can fetch. */
function openlyServed(files: readonly ListedFile[]): ReadonlySet<string> {
  return new Set(files.filter((f) => f.url !== undefined && f.allow === undefined).map((f) => f.path));
}

/** Up to 16 openly served public files, chosen by the SHA-256 of their paths (stable as the tree changes elsewhere). */
function samplePublic(files: readonly { path: string; sha256: string; size: number }[], served: ReadonlySet<string>) {
  const rank = (p: string) => createHash('sha256').update(p).digest('hex');
  return files
    .filter((f) => served.has(f.path))
    .map((f) => ({ f, r: rank(f.path) }))
    .sort((a, b) => (a.r < b.r ? -1 : 1))
    .slice(0, 16)
    .map(({ f }) => f)
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}
