// The registry side of `harvgen pull`: read a published site by digest from a Source (a registry
// or an OCI layout), check everything before anything is served, and write the tree into a staged
// directory. Order: the index (its digest), the site part and its provenance, whose signature must
// verify with the site's public key and whose site must be this one; then every part and blob,
// each checked against its digest as it is read; sealed files opened with the site's key; then
// manifest.json must be the one the provenance names, its own signature must verify, and the
// tree must hold exactly the files it lists, with their hashes. Nothing here switches what nginx
// serves (src/pull/store.ts does, after this returned).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isSafeRelativePath } from '../render/artifact.ts';
import { LAYOUT } from '../derive/layout.ts';
import { checkSignature } from '../verify/signature.ts';
import { readDeployManifest } from '../verify/manifest.ts';
import { ANNOTATION, MEDIA, PROVENANCE_SIGNATURE, type Descriptor, type PartManifest, type SiteIndex } from '../publish/media.ts';
import type { Provenance } from '../publish/provenance.ts';
import { SealError, type SealKey } from '../publish/seal.ts';
import { checkProvenance } from '../publish/sign.ts';
import type { Source } from '../publish/sink.ts';
import { pool } from '../oci/graph.ts';

/** An artifact refused: a digest, signature, site, key or serial that does not check (PULL_REFUSED). */
export class PullRefused extends Error {}

const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_FILE = 256 * 1024 * 1024;

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
): Promise<{ index: SiteIndex; provenance: Provenance; sitePart: PartManifest }> {
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
  return { index, provenance, sitePart };
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
  const written = new Map<string, string>();
  const write = (path: string, mode: number, contents: Buffer) => {
    if (!isSafeRelativePath(path) || path === '.harvgen' || path.startsWith('.harvgen/'))
      throw new PullRefused(`${digest} names a file outside the tree: ${JSON.stringify(path)}`);
    if (written.has(path)) throw new PullRefused(`${digest} holds ${path} twice`);
    const file = join(stage, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents, { mode: mode === 0o755 ? 0o755 : 0o644, flag: 'wx' });
    written.set(path, createHash('sha256').update(contents).digest('hex'));
  };
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
  const layers = parts.flatMap((p) => p.layers.filter((l) => l.mediaType !== MEDIA.signature));
  await pool(layers, concurrency, (l) => fetchLayer(source, l, key, write));
  checkTree(stage, written, provenance, publicKey, digest);
  return { digest, provenance, releases, files: written.size };
}

async function fetchLayer(source: Source, l: Descriptor, key: SealKey, write: (p: string, m: number, c: Buffer) => void): Promise<void> {
  const blob = await source.getBlob(l.digest, MAX_FILE);
  const title = l.annotations?.[ANNOTATION.title];
  const mode = l.annotations?.[ANNOTATION.mode] === '0755' ? 0o755 : 0o644;
  if (l.mediaType === MEDIA.file) {
    if (title === undefined) throw new PullRefused(`the file ${l.digest} has no path`);
    write(title, mode, blob);
  } else if (l.mediaType === MEDIA.fileGzip) {
    if (title === undefined) throw new PullRefused(`the file ${l.digest} has no path`);
    let plain: Buffer;
    try {
      plain = gunzipSync(blob, { maxOutputLength: MAX_FILE });
    } catch {
      throw new PullRefused(`${title} (${l.digest}) is not gzip data`);
    }
    if (createHash('sha256').update(plain).digest('hex') !== l.annotations?.[ANNOTATION.sha256])
      throw new PullRefused(`${title} does not unpack to the SHA-256 its layer names`);
    write(title, mode, plain);
  } else if (l.mediaType === MEDIA.sealed) {
    let file;
    try {
      file = key.unseal(blob);
    } catch (e) {
      if (e instanceof SealError) throw new PullRefused(`the sealed file ${l.digest} ${e.message}`);
      throw e;
    }
    write(file.path, file.mode, file.contents);
  } else throw new PullRefused(`a layer of unknown type ${l.mediaType}`);
}

/** manifest.json is the signed provenance's, its own signature verifies, and the tree is exactly what it lists. */
function checkTree(stage: string, written: ReadonlyMap<string, string>, p: Provenance, publicKey: string, digest: string): void {
  const manifestHash = written.get(LAYOUT.manifest);
  if (manifestHash !== p.manifest_sha256) throw new PullRefused(`${digest}: manifest.json is not the one its signed provenance names`);
  const text = readFileSync(join(stage, LAYOUT.manifest), 'utf8');
  const unsigned = checkSignature(stage, text, { line: publicKey, from: 'public_key of pull.json' }, p.site);
  if (unsigned) throw new PullRefused(`${digest}: ${unsigned.message}`);
  const read = readDeployManifest(stage, text);
  if ('problem' in read) throw new PullRefused(`${digest}: ${read.problem}`);
  const listed = new Map(read.manifest.files.map((f) => [f.path, f.sha256]));
  for (const [path, sha] of listed)
    if (written.get(path) !== sha)
      throw new PullRefused(`${digest}: ${path} ${written.has(path) ? 'differs from' : 'is missing, yet listed in'} manifest.json`);
  for (const path of written.keys())
    if (!listed.has(path) && path !== LAYOUT.manifest && path !== LAYOUT.manifestSignature)
      throw new PullRefused(`${digest}: ${path} is not listed in manifest.json`);
}
