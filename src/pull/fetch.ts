// The registry side of `harvgen pull`: read a published site by digest from a Source (a registry
// or an OCI layout), check everything before anything is served, and write the tree into a staged
// directory. The index and the parts are not signed (a registry without any key can rewrite
// them), so the signed part comes first: the index (its digest), the site part and its
// provenance, whose signature must verify with the site's public key and whose site must be this
// one; then manifest.json (the one the provenance names) and its own signature; then only the
// files that list names, each blob bounded by the size it gives (a gzip unpacked no further), and
// no more layers than it has files; sealed files opened with the site's key; and the tree must be
// exactly the list, with its hashes (src/pull/tree-writer.ts refuses anything else as it is
// written). Nothing here switches what nginx serves (src/pull/store.ts does, after this returned).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LAYOUT } from '../derive/layout.ts';
import { checkSignature } from '../verify/signature.ts';
import { readDeployManifest } from '../verify/manifest.ts';
import {
  ANNOTATION,
  MEDIA,
  PACK_UP_TO,
  PROVENANCE_SIGNATURE,
  untitledLayer,
  type Descriptor,
  type PartManifest,
  type SiteIndex,
} from '../publish/media.ts';
import type { Provenance } from '../publish/provenance.ts';
import { SealError, type SealKey } from '../publish/seal.ts';
import { checkProvenance } from '../publish/sign.ts';
import type { Source } from '../publish/sink.ts';
import { pool } from '../oci/graph.ts';
import { PullRefused } from './refused.ts';
import { SIGNING_FILES, TreeWriter, type Listed } from './tree-writer.ts';

export { PullRefused } from './refused.ts';

const MAX_MANIFEST = 4 * 1024 * 1024;

/** What a checked artifact holds, besides the files written into the staged directory. */
export interface Fetched {
  readonly digest: string;
  readonly provenance: Provenance;
  /** The release parts the index names: per `<version>-<arch>`, the layers (name, digest, size). */
  readonly releases: ReadonlyMap<string, readonly { name: string; digest: string; size: number }[]>;
  readonly files: number;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new PullRefused(`${what} is not JSON`);
  }
}

/** Read and check the index and the provenance (nothing written yet). */
export async function readHead(
  source: Source,
  digest: string,
  site: string,
  publicKey: string,
): Promise<{ index: SiteIndex; provenance: Provenance; sitePart: PartManifest; signed: { bytes: Buffer; signature: string } }> {
  const index = parseJson<SiteIndex>(await source.getManifest(digest, MAX_MANIFEST), `the index ${digest}`);
  if (index.mediaType !== MEDIA.index || index.artifactType !== MEDIA.site || !Array.isArray(index.manifests))
    throw new PullRefused(`${digest} is not a published harvgen site (its artifact type is ${String(index.artifactType)})`);
  if (index.annotations?.[ANNOTATION.site] !== site)
    throw new PullRefused(
      `${digest} is the site ${String(index.annotations?.[ANNOTATION.site])}, not ${site}: a tag that names another site's tree`,
    );
  const siteEntry = index.manifests.find((m) => m.annotations?.[ANNOTATION.part] === 'site');
  if (!siteEntry) throw new PullRefused(`${digest} has no site part`);
  const sitePart = parseJson<PartManifest>(await source.getManifest(siteEntry.digest, MAX_MANIFEST), 'the site part');
  if (sitePart.config?.mediaType !== MEDIA.provenance) throw new PullRefused('the site part has no provenance');
  const provenanceBytes = await source.getBlob(sitePart.config.digest, MAX_MANIFEST);
  const sigLayer = sitePart.layers.find(
    (l) => l.mediaType === MEDIA.signature && l.annotations?.[ANNOTATION.title] === PROVENANCE_SIGNATURE,
  );
  if (!sigLayer) throw new PullRefused(`${digest} carries no signature: harvgen serves nothing unsigned`);
  const signature = (await source.getBlob(sigLayer.digest, 64 * 1024)).toString('utf8');
  const bad = checkProvenance(publicKey, provenanceBytes, signature);
  if (bad !== undefined) throw new PullRefused(`the signature of ${digest} does not verify with the site's public key (${bad})`);
  const provenance = parseJson<Provenance>(provenanceBytes, 'the provenance');
  if (provenance.format !== 1 || provenance.site !== site)
    throw new PullRefused(`${digest} is signed for the site ${String(provenance.site)}, not ${site}`);
  return { index, provenance, sitePart, signed: { bytes: provenanceBytes, signature } };
}

/** Fetch the whole tree of a checked head into `stage`; returns what the store and the releases need. */
export async function fetchTree(
  source: Source,
  digest: string,
  head: Awaited<ReturnType<typeof readHead>>,
  key: SealKey,
  publicKey: string,
  stage: string,
  concurrency = 8,
): Promise<Fetched> {
  const { index, provenance, sitePart } = head;
  const tree = new TreeWriter(stage, digest);
  const { parts, releases } = await readParts(source, index, sitePart);
  const layers = parts.flatMap((p) => p.layers.filter((l) => l.mediaType !== MEDIA.signature));
  refuseRepeats(layers, digest);
  // The signed part first: manifest.json (named by the signed provenance) and its signature, then
  // only what that list names, each no larger than the size it gives.
  const early = await readSigningFiles(source, sitePart, layers, key, tree);
  const listed = checkSignedList(stage, tree, provenance, publicKey, digest);
  if (layers.length > listed.size + SIGNING_FILES.length)
    throw new PullRefused(`${digest} has ${layers.length} file layers, manifest.json lists ${listed.size} files`);
  tree.limitTo(listed);
  for (const l of layers) {
    const title = untitledLayer(l) ? undefined : l.annotations?.[ANNOTATION.title];
    if (title !== undefined && !early.has(l)) tree.admit(title);
  }
  for (const file of early.values()) if (file) tree.write(file.path, file.mode, file.contents);
  const rest = layers.filter((l) => !early.has(l));
  const largest = Math.max(0, ...[...listed.values()].map((f) => f.size));
  // A pack holds at most every listed file small enough to be packed, each with a header (its path, mode and size).
  let whole = 0;
  for (const [path, f] of listed) if (f.size <= PACK_UP_TO) whole += f.size + Buffer.byteLength(path) + 64;
  await pool(rest, concurrency, (l) => fetchLayer(source, l, key, tree, { largest, whole }));
  checkTree(tree.written, listed, digest);
  return { digest, provenance, releases, files: tree.written.size };
}

/** The node and release parts the index names (manifests only, each bounded). */
async function readParts(source: Source, index: SiteIndex, sitePart: PartManifest) {
  const parts: PartManifest[] = [sitePart];
  const releases = new Map<string, { name: string; digest: string; size: number }[]>();
  for (const m of index.manifests) {
    const part = m.annotations?.[ANNOTATION.part] ?? (m.annotations?.[ANNOTATION.node] !== undefined ? 'node' : undefined);
    if (part === 'node') parts.push(parseJson<PartManifest>(await source.getManifest(m.digest, MAX_MANIFEST), `the part ${m.digest}`));
    else if (part === 'release') {
      const r = parseJson<PartManifest>(await source.getManifest(m.digest, MAX_MANIFEST), `the release part ${m.digest}`);
      releases.set(
        m.annotations?.[ANNOTATION.release] ?? '',
        r.layers.map((l) => ({ name: l.annotations?.[ANNOTATION.title] ?? '', digest: l.digest, size: l.size })),
      );
    }
  }
  for (const p of parts) {
    if (!Array.isArray(p.layers)) throw new PullRefused('a part of the artifact has no list of layers');
    if (p.layers.filter((l) => l.mediaType === MEDIA.pack).length > 1)
      throw new PullRefused('a part of the artifact has more than one pack');
  }
  return { parts, releases };
}

/** A sealed blob twice, or a public path twice: refused before anything is fetched. */
function refuseRepeats(layers: readonly Descriptor[], digest: string): void {
  const seen = new Set<string>();
  for (const l of layers) {
    const id = untitledLayer(l) ? l.digest : `title:${l.annotations?.[ANNOTATION.title] ?? l.digest}`;
    if (seen.has(id)) throw new PullRefused(`${digest} holds ${id.replace(/^title:/, '')} twice`);
    seen.add(id);
  }
}

type Opened = { path: string; mode: number; contents: Buffer };

/**
 * manifest.json and manifest.json.sig, from public layers with those titles or else from the site
 * part's small sealed layers (opened one by one until both are found: a blob sealed with the
 * site's key comes from its publisher). Returns the layers read: the other files opened on the
 * way, to be written once the list is known.
 */
async function readSigningFiles(
  source: Source,
  sitePart: PartManifest,
  layers: readonly Descriptor[],
  key: SealKey,
  tree: TreeWriter,
): Promise<Map<Descriptor, Opened | undefined>> {
  const read = new Map<Descriptor, Opened | undefined>();
  for (const name of SIGNING_FILES) {
    // A file layer only: a pack (or a sealed file) titled so by a registry is not read before the list is known.
    const l = layers.find(
      (x) => (x.mediaType === MEDIA.file || x.mediaType === MEDIA.fileGzip) && x.annotations?.[ANNOTATION.title] === name,
    );
    if (!l) continue;
    await fetchLayer(source, l, key, tree, { largest: MAX_MANIFEST, whole: MAX_MANIFEST });
    read.set(l, undefined);
  }
  for (const l of sitePart.layers) {
    if (SIGNING_FILES.every((n) => tree.written.has(n))) break;
    if (l.mediaType !== MEDIA.sealed || l.size > sealedBound(MAX_MANIFEST)) continue;
    const file = unseal(key, await source.getBlob(l.digest, sealedBound(MAX_MANIFEST)), l.digest);
    if (SIGNING_FILES.includes(file.path)) {
      tree.write(file.path, file.mode, file.contents);
      read.set(l, undefined);
    } else read.set(l, file);
  }
  return read;
}

/** The largest sealed blob of a file of `size` bytes (gzip's worst case, the header, the cipher's bytes). */
const sealedBound = (size: number) => size + Math.ceil(size / 16_000) * 5 + 4096;

/** The largest gzip stream of `size` bytes (stored blocks: 5 bytes each 16 KiB, the header and trailer). */
const gzipBound = (size: number) => size + Math.ceil(size / 16_000) * 5 + 64;

function unseal(key: SealKey, blob: Buffer, digest: string): Opened {
  try {
    return key.unseal(blob);
  } catch (e) {
    if (e instanceof SealError) throw new PullRefused(`the sealed file ${digest} ${e.message}`);
    throw e;
  }
}

/**
 * One layer, fetched no larger than what manifest.json lets it be, unpacked and written:
 * `largest` bounds one file (its largest), `whole` a pack (every listed file with its header).
 */
async function fetchLayer(
  source: Source,
  l: Descriptor,
  key: SealKey,
  tree: TreeWriter,
  bound: { largest: number; whole: number },
): Promise<void> {
  const { largest } = bound;
  const title = l.annotations?.[ANNOTATION.title];
  const mode = l.annotations?.[ANNOTATION.mode] === '0755' ? 0o755 : 0o644;
  if (l.mediaType === MEDIA.pack) {
    const blob = await source.getBlob(l.digest, sealedBound(bound.whole));
    let files;
    try {
      files = key.unsealPack(blob, bound.whole);
    } catch (e) {
      if (e instanceof SealError) throw new PullRefused(`the sealed pack ${l.digest} ${e.message}`);
      throw e;
    }
    for (const file of files) tree.write(file.path, file.mode, file.contents);
    return;
  }
  if (l.mediaType === MEDIA.sealed) {
    const file = unseal(key, await source.getBlob(l.digest, sealedBound(largest)), l.digest);
    tree.write(file.path, file.mode, file.contents);
    return;
  }
  if (title === undefined) throw new PullRefused(`the file ${l.digest} has no path`);
  const size = tree.sizeOf(title) ?? largest;
  if (l.mediaType === MEDIA.file) tree.write(title, mode, await source.getBlob(l.digest, size));
  else if (l.mediaType === MEDIA.fileGzip) {
    const plain = gunzip(await source.getBlob(l.digest, gzipBound(size)), size, title, l.digest);
    if (createHash('sha256').update(plain).digest('hex') !== l.annotations?.[ANNOTATION.sha256])
      throw new PullRefused(`${title} does not unpack to the SHA-256 its layer names`);
    tree.write(title, mode, plain);
  } else throw new PullRefused(`a layer of unknown type ${l.mediaType}`);
}

function gunzip(blob: Buffer, max: number, title: string, digest: string): Buffer {
  try {
    return gunzipSync(blob, { maxOutputLength: Math.max(max, 1) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PullRefused(`${title} (${digest}) unpacks to more than ${max} bytes, the most manifest.json allows it`);
    throw new PullRefused(`${title} (${digest}) is not gzip data`);
  }
}

/** manifest.json is the one the signed provenance names and its own signature verifies: its list. */
function checkSignedList(stage: string, tree: TreeWriter, p: Provenance, publicKey: string, digest: string): Listed {
  if (tree.written.get(LAYOUT.manifest) !== p.manifest_sha256)
    throw new PullRefused(`${digest}: manifest.json is not the one its signed provenance names`);
  const text = readFileSync(join(stage, LAYOUT.manifest), 'utf8');
  const unsigned = checkSignature(stage, text, { line: publicKey, from: 'public_key of pull.json' }, p.site);
  if (unsigned) throw new PullRefused(`${digest}: ${unsigned.message}`);
  const read = readDeployManifest(stage, text);
  if ('problem' in read) throw new PullRefused(`${digest}: ${read.problem}`);
  return new Map(read.manifest.files.map((f) => [f.path, { sha256: f.sha256, size: f.size }]));
}

/** The tree is exactly what manifest.json lists, with its hashes: nothing missing, nothing else. */
function checkTree(written: ReadonlyMap<string, string>, listed: Listed, digest: string): void {
  for (const path of written.keys())
    if (!listed.has(path) && !SIGNING_FILES.includes(path)) throw new PullRefused(`${digest}: ${path} is not listed in manifest.json`);
  for (const [path, f] of listed)
    if (written.get(path) !== f.sha256)
      throw new PullRefused(`${digest}: ${path} ${written.has(path) ? 'differs from' : 'is missing, yet listed in'} manifest.json`);
}
