// Writing a site's artifact into a sink (a registry repository or an OCI layout), children before
// parents as the distribution spec requires (blobs, then the parts, then the index, then the tags),
// so a reader never finds a manifest whose blobs are missing. A part already in the sink is skipped
// whole: a registry accepts a manifest only once every blob it names is there. So a one-node edit
// sends the node's changed files, its part, the site part and the index. With a cosign key, every
// manifest is signed after it is there and before any tag names the index (src/publish/cosign-push.ts).
import type { ReleasePart, SiteArtifact } from './artifact.ts';
import type { Sink } from './sink.ts';
import { pool } from '../oci/graph.ts';
import { ensureSignature, pushSignature, signedThere, type CosignSigner } from './cosign-push.ts';
import type { ClusterArtifact } from './cluster.ts';

/** The release parts being sent to a releases repository now (by its name and the part's digest). */
const releaseSends = new Map<string, Promise<void>>();

/** Push a release part into `releases` (once per store) and make it available in `site`. */
async function pushRelease(r: ReleasePart, site: Sink, releases: Sink | undefined, concurrency: number): Promise<void> {
  if (await site.hasManifest(r.manifest.digest)) return;
  const blobs = [
    ...r.files.map((f) => ({ digest: f.digest, path: f.path, size: f.size })),
    { digest: r.config.digest, bytes: r.config.bytes },
  ];
  if (releases) {
    // Two sites sent at once may boot one release: it is sent to `releases` once, the other waits.
    const key = `${releases.name}\0${r.manifest.digest}`;
    let sent = releaseSends.get(key);
    if (!sent) {
      sent = (async () => {
        if (await releases.hasManifest(r.manifest.digest)) return;
        await pool(blobs, concurrency, async (b) => {
          if ('bytes' in b) await releases.putBlob(b.digest, b.bytes!);
          else await releases.putBlobFile(b.digest, b.path, b.size);
        });
        await releases.putManifest(r.manifest.digest, r.manifest.mediaType, r.manifest.bytes);
        await releases.putManifest(r.version, r.manifest.mediaType, r.manifest.bytes);
      })().finally(() => releaseSends.delete(key));
      releaseSends.set(key, sent);
    }
    await sent;
  }
  await pool(blobs, concurrency, async (b) => {
    if (await site.hasBlob(b.digest)) return;
    if (releases && (await site.mountBlob(b.digest, releases.name))) return;
    if ('bytes' in b) await site.putBlob(b.digest, b.bytes!);
    else await site.putBlobFile(b.digest, b.path, b.size);
  });
  await site.putManifest(r.manifest.digest, r.manifest.mediaType, r.manifest.bytes);
}

/** The blobs each part names (config and layers), read back from its bytes. */
function partBlobs(bytes: Buffer): string[] {
  const m = JSON.parse(bytes.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  return [m.config.digest, ...m.layers.map((l) => l.digest)];
}

/**
 * Push one site's artifact; `tags` are set last, once everything they name is there. `fresh`: the
 * site's tag names nothing yet (a first publish), so nothing is asked before it is sent (no HEAD
 * per part, blob and tag): a repository that holds some of it after all (an upload cut short) is
 * only sent those blobs again, which a registry takes.
 */
export async function pushSite(
  a: SiteArtifact,
  site: Sink,
  releases: Sink | undefined,
  tags: readonly string[],
  concurrency = 8,
  fresh = false,
  /** Sign every manifest for cosign (src/publish/cosign-push.ts) before any tag names the index. */
  cosign?: CosignSigner,
  /** The cluster side for Flux (src/publish/cluster.ts), pushed and signed before the site's tags. */
  cluster?: { readonly artifact: ClusterArtifact; readonly tag: string },
): Promise<void> {
  // A manifest whose signature is there was there before it (children, then their signatures):
  // with a cosign key, that one read answers both, so a republish asks one request per manifest.
  for (const r of a.releases) {
    if (cosign && !fresh && (await signedThere(site, cosign, r.manifest.digest))) continue;
    await pushRelease(r, site, releases, concurrency);
    if (cosign) await pushSignature(site, cosign, r.manifest.digest, fresh);
  }
  const missing: (typeof a.parts)[number][] = [];
  const unsigned: (typeof a.parts)[number][] = [];
  if (fresh) missing.push(...a.parts);
  else
    await pool(a.parts, concurrency, async (p) => {
      if (cosign && (await signedThere(site, cosign, p.digest))) return;
      if (!(await site.hasManifest(p.digest))) missing.push(p);
      else if (cosign) unsigned.push(p);
    });
  const blobs = [...new Set(missing.flatMap((p) => partBlobs(p.bytes)))].sort();
  // putBlob skips a blob the sink has (one HEAD), so a blob shared by two parts goes once.
  await pool(blobs, concurrency, (d) => site.putBlob(d, a.blobs.get(d)!, { unchecked: fresh }));
  await pool(missing, concurrency, (p) => site.putManifest(p.digest, p.mediaType, p.bytes));
  if (cosign) {
    // A part sent just now has no signature yet (its blobs are not asked for); one already there
    // whose signature is missing or another key's gets one.
    await pool(missing, concurrency, (p) => pushSignature(site, cosign, p.digest, true));
    await pool(unsigned, concurrency, (p) => pushSignature(site, cosign, p.digest, false));
  }
  // A PUT by tag stores the manifest by its digest too: the index goes once per tag, no more.
  // Signed for cosign, it goes by digest first, then its signature, then the tags: a verifier
  // that follows a tag finds the signature there.
  // An index whose signature is there is there: an unchanged republish sends neither again.
  const indexSigned = cosign !== undefined && !fresh && (await signedThere(site, cosign, a.index.digest));
  if (!indexSigned && (tags.length === 0 || cosign)) await site.putManifest(a.index.digest, a.index.mediaType, a.index.bytes);
  if (cosign && !indexSigned) await pushSignature(site, cosign, a.index.digest, fresh);
  if (cluster) {
    const c = cluster.artifact;
    const moved = fresh || (await site.resolveTag(cluster.tag)) !== c.manifest.digest;
    if (moved) {
      for (const b of c.blobs) await site.putBlob(b.digest, b.bytes, { unchecked: fresh });
      await site.putManifest(c.manifest.digest, c.manifest.mediaType, c.manifest.bytes);
    }
    // Signed even when the tag stays (a cosign key added since).
    if (cosign) await ensureSignature(site, cosign, c.manifest.digest, fresh);
    if (moved) await site.putManifest(cluster.tag, c.manifest.mediaType, c.manifest.bytes);
  }
  for (const t of tags)
    if (fresh || (await site.resolveTag(t)) !== a.index.digest) await site.putManifest(t, a.index.mediaType, a.index.bytes);
}
