// One site's tree as an OCI artifact (docs/dev/fleet-format.md): the deploy tree's files split
// into a site part and one part per node, each file public (its bytes, addressed by the SHA-256
// manifest.json lists) or sealed (src/publish/seal.ts), and an index over the parts and the
// release parts. Pure: the same trees, key and provenance give the same bytes and digests.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sha256Digest } from '../oci/ref.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { FileKind } from '../derive/file-kinds.ts';
import { nameReader, treeForms } from '../derive/read-names.ts';
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
  const blobs = new Blobs();
  // The binaries the committed tree lists and does not hold (images, iPXE binaries): public when
  // the committed manifest lists the same bytes (as when it held them: a public layer, shared by
  // digest with every site that has it).
  const listed = committedList(input.committed);
  const parts = new PartLayers(input);
  const laid = layFiles(input, parts, blobs, listed);
  const sig = Buffer.from(input.signature, 'utf8');
  parts.layers('').push({
    mediaType: MEDIA.signature,
    digest: blobs.add(sig),
    size: sig.length,
    annotations: { [ANNOTATION.title]: PROVENANCE_SIGNATURE },
  });
  const { manifests, entries } = partManifests(input, parts, blobs);
  const indexBytes = jsonBlob(siteIndex(input, entries));
  return {
    site: input.site,
    index: { digest: sha256(indexBytes), bytes: indexBytes, mediaType: MEDIA.index },
    parts: manifests,
    blobs: blobs.all,
    releases: input.releases,
    sample: samplePublic(laid.publicFiles, openlyServed(listed)),
    counts: { public: laid.publicFiles.length, sealed: laid.sealed, nodes: input.nodes.length },
  };
}

/** The blobs the parts reference, by digest, in the order first added. */
class Blobs {
  readonly all = new Map<string, Buffer>();
  /** Keep `bytes`; its digest. */
  add(bytes: Buffer): string {
    const digest = sha256(bytes);
    this.all.set(digest, bytes);
    return digest;
  }
}

/** The parts by key ('' the site part, then each node part in order) and the layers each holds. */
class PartLayers {
  /** Each node part's hostnames (nodeParts). */
  readonly members: Map<string, string[]>;
  readonly groups = new Map<string, Descriptor[]>([['', []]]);
  private readonly partOf = new Map<string, string>();
  private readonly owner: (path: string) => string;

  constructor(input: ArtifactInput) {
    this.members = nodeParts(input.nodes.map((n) => n.hostname));
    for (const [key, hostnames] of this.members) {
      this.groups.set(key, []);
      for (const h of hostnames) this.partOf.set(h, key);
    }
    this.owner = nodeOwner(input.site, input.nodes);
  }

  /** The key of the part a file of the tree goes into. */
  partOfPath(path: string): string {
    const host = this.owner(path);
    return host === '' ? '' : this.partOf.get(host)!;
  }

  layers(part: string): Descriptor[] {
    return this.groups.get(part)!;
  }
}

/**
 * Which small files travel in their part's sealed pack. A part's small files travel together in
 * one sealed pack: about 5 blobs fewer per node and 10 in the site part (two requests each) on a
 * cold publish. A node's edit uploads its pack again (a few KiB); the site part's pack is kept to
 * SITE_PACK_UP_TO, as it is sent again on most edits, and manifest.json and its signature stay
 * layers of their own (pull reads them first).
 */
class Packs {
  readonly byPart = new Map<string, SealedFile[]>();
  private sitePacked = 0;

  /** Pack `file` when it may go into its part's pack; false when it is a layer of its own. */
  add(part: string, file: SealedFile): boolean {
    const size = file.contents.length;
    if (size > PACK_UP_TO) return false;
    if (part === '') {
      if (file.path === LAYOUT.manifest || file.path === LAYOUT.manifestSignature || this.sitePacked + size > SITE_PACK_UP_TO) return false;
      this.sitePacked += size;
    }
    const pack = this.byPart.get(part) ?? [];
    this.byPart.set(part, pack);
    pack.push(file);
    return true;
  }
}

/** Put each file of the deploy tree into its part (in path order): packed, a public layer, or sealed. */
function layFiles(input: ArtifactInput, parts: PartLayers, blobs: Blobs, listed: readonly ListedFile[]) {
  const committed = new Map(input.committed.map((a) => [a.path, bytesOf(a.contents)]));
  const listedOnly = listedShas(listed, committed);
  const publicFiles: { path: string; sha256: string; size: number }[] = [];
  const packs = new Packs();
  let sealed = 0;
  for (const a of [...input.deploy].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) {
    const bytes = bytesOf(a.contents);
    const twin = committed.get(a.path);
    const part = parts.partOfPath(a.path);
    const isPublic = twin !== undefined ? twin.equals(bytes) : listedOnly.get(a.path) === sha256(bytes).slice(7);
    if (isPublic) publicFiles.push({ path: a.path, sha256: sha256(bytes).slice(7), size: bytes.length });
    if (packs.add(part, { path: a.path, mode: a.mode === 0o755 ? 0o755 : 0o644, contents: bytes })) {
      if (!isPublic) sealed++;
    } else if (isPublic) {
      parts.layers(part).push(publicLayer(a, bytes, blobs));
    } else {
      sealed++;
      const blob = input.key.seal(a.path, a.mode, bytes);
      parts.layers(part).push({ mediaType: MEDIA.sealed, digest: blobs.add(blob), size: blob.length });
    }
  }
  for (const [part, files] of packs.byPart) {
    const blob = input.key.sealPack(files); // in path order, as the deploy tree was walked
    parts.layers(part).push({ mediaType: MEDIA.pack, digest: blobs.add(blob), size: blob.length });
  }
  return { publicFiles, sealed };
}

/** A public file as a layer of its own (gzipped when large). */
function publicLayer(a: Artifact, bytes: Buffer, blobs: Blobs): Descriptor {
  const digest = sha256(bytes);
  const annotations: Record<string, string> = { [ANNOTATION.title]: a.path };
  if (a.mode === 0o755) annotations[ANNOTATION.mode] = '0755';
  if (bytes.length > GZIP_ABOVE) {
    const gz = gzipSync(bytes, { level: 9 });
    annotations[ANNOTATION.sha256] = digest.slice(7);
    return { mediaType: MEDIA.fileGzip, digest: blobs.add(gz), size: gz.length, annotations: sortKeys(annotations) };
  }
  return { mediaType: MEDIA.file, digest: blobs.add(bytes), size: bytes.length, annotations: sortKeys(annotations) };
}

/** Each part's manifest, and the index's entries for the parts and the releases. */
function partManifests(input: ArtifactInput, parts: PartLayers, blobs: Blobs): { manifests: ManifestBlob[]; entries: Descriptor[] } {
  const provenance = jsonBlob(input.provenance);
  const manifests: ManifestBlob[] = [];
  const entries: Descriptor[] = [];
  for (const [part, layers] of parts.groups) {
    const config =
      part === ''
        ? { mediaType: MEDIA.provenance, bytes: provenance }
        : // One config for every node part of a site (one blob, not one per part): the index names each part's nodes.
          { mediaType: MEDIA.partConfig, bytes: jsonBlob({ part: 'node', site: input.site }) };
    const manifest: PartManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      artifactType: MEDIA.part,
      config: { mediaType: config.mediaType, digest: blobs.add(config.bytes), size: config.bytes.length },
      layers: sortLayers(layers),
    };
    const bytes = jsonBlob(manifest);
    const m: ManifestBlob = { digest: sha256(bytes), bytes, mediaType: MEDIA.manifest };
    manifests.push(m);
    const annotations: Record<string, string> =
      part === '' ? { [ANNOTATION.part]: 'site' } : { [ANNOTATION.nodes]: parts.members.get(part)!.join(' '), [ANNOTATION.part]: 'node' };
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
  return { manifests, entries };
}

/** The site's index over its parts and releases. */
function siteIndex(input: ArtifactInput, entries: Descriptor[]): SiteIndex {
  return {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    artifactType: MEDIA.site,
    manifests: entries,
    annotations: sortKeys({
      [ANNOTATION.site]: input.site,
      ...(input.commit !== undefined ? { [ANNOTATION.revision]: input.commit } : {}),
    }),
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

/**
 * The node (a hostname, or '' for the site part) each path of the tree belongs to, read back by
 * the declaration of the nodes' file names (src/derive/file-kinds.ts): `harvester/hv-1.yaml`,
 * `ipxe/<mac>-<tag>.ipxe`, `cloud-init/<mac>-<tag>/user-data`, `dnsmasq/hosts/<site>.<host>`,
 * `media/hv-1.iso` (a node's boot image, about 1 MiB: in the site part every edit would upload
 * it). `kinds`: the declared ones unless given.
 */
export function nodeOwner(site: string, nodes: ArtifactInput['nodes'], kinds?: readonly FileKind[]): (path: string) => string {
  const hosts = new Set(nodes.map((n) => n.hostname));
  const byMac = new Map(nodes.flatMap((n) => n.macs.map((mac) => [mac.toLowerCase(), n.hostname] as const)));
  const names = nameReader({ root: '', forms: treeForms, site, ...(kinds ? { kinds } : {}) });
  return (path) => {
    const name = names.read(path);
    const host = name?.kind.owner === 'host' ? name.owner : name?.kind.owner === 'mac' ? byMac.get(name.owner) : undefined;
    return host !== undefined && hosts.has(host) ? host : '';
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
