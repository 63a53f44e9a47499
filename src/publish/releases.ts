// The release files a site's boot server serves, as release parts (docs/dev/fleet-format.md):
// read from a local mirror (`--releases <dir>`: `<dir>/<version>/<file>`, the layout fetch.sh
// writes), each checked against the release's own SHA-512 list, hashed as a stream (an ISO is
// gigabytes), and pushed once per registry however many sites boot it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { stampNow, type InputStamp } from '../load/stamps.ts';
import { hashFile } from '../util/hash-file.ts';
import { join } from 'node:path';
import type { SiteModel } from '../model/index.ts';
import { releases, releaseShim, servesRelease } from '../model/served-releases.ts';
import { jsonBlob, sha256, type ReleasePart } from './artifact.ts';
import { ANNOTATION, MEDIA, type Descriptor, type PartManifest } from './media.ts';
import type { ProvenanceRelease } from './provenance.ts';

/** `<sha512>  <name>` lines. */
function parseSha512List(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{128})\s+\*?(\S+)\s*$/.exec(line.trim());
    if (m) out.set(m[2]!.replace(/^.*\//, ''), m[1]!);
  }
  return out;
}

/** A release the mirror cannot give as the site needs it; `hint` where the generic one (fill the mirror) is not the fix. */
export interface ReleaseProblem {
  readonly message: string;
  readonly hint?: string;
}

/** The release parts of a site, with what its provenance says of them, or the problems found. */
export async function releaseParts(
  model: SiteModel,
  dir: string,
  cache: ReleaseCache,
): Promise<{ parts: ReleasePart[]; provenance: ProvenanceRelease[]; problems: ReleaseProblem[]; stamps: InputStamp[] }> {
  const parts: ReleasePart[] = [];
  const stamps: InputStamp[] = [];
  const provenance: ProvenanceRelease[] = [];
  const problems: ReleaseProblem[] = [];
  for (const r of releases(model)) {
    if (!servesRelease(model, r)) continue;
    const a = r.artifacts;
    const names = [a.kernelName, a.initrdName, a.rootfsName, a.isoName, a.checksumName, ...(releaseShim(model, r) ? [a.shimName] : [])];
    const key = `${dir}\u0000${r.version.raw}\u0000${r.arch}\u0000${names.join(',')}`;
    let read = cache.get(key);
    if (!read) cache.set(key, (read = readRelease(join(dir, r.version.raw), r.version.raw, r.arch, a.checksumName, names)));
    const got = await read;
    if ('problems' in got) {
      problems.push(...got.problems.map((message) => ({ message })));
      continue;
    }
    // The upgrade's target ISO (harvester.upgrade) must be the one the inventory pins: its line in
    // the release's list, which the file was just checked against.
    const target = model.upgrade?.to;
    if (target && target.version.raw === r.version.raw && target.arch === r.arch) {
      const listed = got.listed.get(a.isoName);
      if (listed !== model.upgrade!.isoChecksum) {
        problems.push({
          message: `${join(dir, r.version.raw, a.isoName)} has SHA-512 ${listed ?? '(not listed)'} in ${a.checksumName}; harvester.upgrade.iso_checksum says ${model.upgrade!.isoChecksum}: the mirror holds another ISO than the upgrade pins`,
          hint: `Compare the pin with the SHA-512 Harvester publishes for ${a.isoName}: if the pin is right, fetch the release again (fetch.sh refuses an ISO other than the pinned one); if not, correct harvester.upgrade.iso_checksum. docs/upgrade.md.`,
        });
        continue;
      }
    }
    parts.push(got.part);
    stamps.push(...got.stamps);
    provenance.push({ arch: r.arch, dir: r.artifactsDir, files: got.files, version: r.version.raw });
  }
  return { parts, provenance, problems, stamps };
}

/** A release read: its part, what the provenance says of its files, and each file's stamp taken before it was hashed. */
type ReleaseRead =
  | { part: ReleasePart; files: ProvenanceRelease['files']; stamps: InputStamp[]; listed: ReadonlyMap<string, string> }
  | { problems: string[] };

/** Each release read once per run, however many sites serve it. */
export type ReleaseCache = Map<string, Promise<ReleaseRead>>;

async function readRelease(dir: string, version: string, arch: string, listName: string, names: readonly string[]): Promise<ReleaseRead> {
  const missing = names.filter((n) => !existsSync(join(dir, n)) || !statSync(join(dir, n)).isFile());
  if (missing.length > 0) return { problems: missing.map((n) => `${join(dir, n)} is missing`) };
  const list = parseSha512List(readFileSync(join(dir, listName), 'utf8'));
  const files: { name: string; path: string; digest: string; size: number; sha256: string }[] = [];
  const problems: string[] = [];
  const stamps: InputStamp[] = [];
  for (const name of [...names].sort()) {
    // Stamped before it is read (as load stamps inputs): a file changed meanwhile has another stamp.
    stamps.push(stampNow(join(dir, name)));
    const h = await hashFile(join(dir, name), 'sha256', 'sha512');
    const want = list.get(name);
    // A file the list does not name (the SUSE shim) is taken as the mirror has it, as fetch.sh does.
    if (want !== undefined && want !== h.sha512)
      problems.push(`${join(dir, name)} does not match the SHA-512 in ${listName}: a broken or wrong download`);
    files.push({ name, path: join(dir, name), digest: `sha256:${h.sha256}`, size: h.size, sha256: h.sha256 });
  }
  if (problems.length > 0) return { problems };
  const config = jsonBlob({ arch, part: 'release', version });
  const layers: Descriptor[] = files.map((f) => ({
    mediaType: MEDIA.releaseFile,
    digest: f.digest,
    size: f.size,
    annotations: { [ANNOTATION.title]: f.name },
  }));
  const manifest: PartManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    artifactType: MEDIA.part,
    config: { mediaType: MEDIA.partConfig, digest: sha256(config), size: config.length },
    layers,
  };
  const bytes = jsonBlob(manifest);
  return {
    part: {
      version: `${version}-${arch}`,
      manifest: { digest: sha256(bytes), bytes, mediaType: MEDIA.manifest },
      config: { digest: sha256(config), bytes: config },
      files: files.map(({ name, path, digest, size }) => ({ name, path, digest, size })),
    },
    files: files.map(({ name, sha256: s, size }) => ({ name, sha256: s, size })),
    stamps: [stampNow(join(dir, listName)), ...stamps],
    listed: list,
  };
}
