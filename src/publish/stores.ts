// The stores publish, export, import and pull read and write (docs/fleet.md): a registry (one
// client per registry host, src/oci/client.ts) or an OCI image layout, a directory (`oci:<dir>`)
// or a tar archive of one (`oci-archive:<file>`, src/oci/layout.ts), both as the Sink and
// Source of src/publish/sink.ts.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Diagnostic } from '../diagnostics/types.ts';
import { Registry, RegistryError, type RegistryOptions } from '../oci/client.ts';
import { OciLayout, readArchive, REF_NAME, writeArchive, type Descriptor } from '../oci/layout.ts';
import { copyArtifact, layoutStore as graphLayoutStore, registryStore, type Store as GraphStore } from '../oci/graph.ts';
import { isValueOfKind, VALUE_KINDS } from '../util/value-kinds.ts';
import { ANNOTATION, MEDIA } from './media.ts';
import { zeroCounts, type Sink, type SinkCounts, type Source } from './sink.ts';

const ACCEPT = [MEDIA.index, MEDIA.manifest];
const MAX_MANIFEST = 4 * 1024 * 1024;

/** Why `ref` is not a registry and namespace (`host[:port]/name/...`), or undefined. */
export function registryProblem(ref: string): string | undefined {
  return isValueOfKind('registry', ref) ? undefined : `not ${VALUE_KINDS.registry.form}`;
}

/** `host[:port]` and the repository path of `host[:port]/a/b`. */
function split(repository: string): { host: string; path: string } {
  const i = repository.indexOf('/');
  return { host: repository.slice(0, i), path: repository.slice(i + 1) };
}

export interface RegistryTargetOptions {
  readonly insecure?: boolean;
  readonly certDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The client's time limits and warnings (RegistryOptions: `requestTimeoutMs`, `deadline`, `signal`, `onWarning`). */
  readonly limits?: Pick<RegistryOptions, 'requestTimeoutMs' | 'deadline' | 'signal' | 'onWarning'>;
}

/** Sinks and sources of registry repositories, one client per registry host. */
export function registryTarget(options: RegistryTargetOptions = {}) {
  const clients = new Map<string, Registry>();
  let manifestsPut = 0;
  const client = (host: string) => {
    let c = clients.get(host);
    if (!c) clients.set(host, (c = registryClient(host, options)));
    return c;
  };
  const repo = (repository: string) => registryRepository(client(split(repository).host), repository, () => manifestsPut++);
  return {
    /** The repository as the OCI library's own copy store (import). */
    graphStore: (repository: string): GraphStore => {
      const { host, path } = split(repository);
      return registryStore(client(host), path);
    },
    sinkFor: (repository: string): Sink => repo(repository),
    sourceFor: (repository: string): Source => repo(repository),
    counts(): SinkCounts {
      const t = zeroCounts();
      t.manifestsPut = manifestsPut;
      for (const c of clients.values()) {
        t.requests += c.counters.requests;
        t.bytesUploaded += c.counters.bytesUploaded;
        t.blobsUploaded += c.counters.blobsUploaded;
        t.blobsSkipped += c.counters.blobsSkipped;
        t.blobsMounted += c.counters.blobsMounted;
      }
      return t;
    },
    close: () => {
      for (const c of clients.values()) c.close();
    },
  };
}

/** The client of one registry host. */
function registryClient(host: string, options: RegistryTargetOptions): Registry {
  return new Registry({
    registry: host,
    ...(options.insecure ? { insecure: true } : {}),
    ...(options.certDir ? { certDir: options.certDir } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...options.limits,
    userAgent: 'harvgen',
  });
}

/** What `read` gives, or undefined when the registry answers 404 (no such tag). */
async function unless404<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof RegistryError && e.status === 404) return undefined;
    throw e;
  }
}

/** One repository of a registry as a Sink and a Source (`putManifest` calls `counted` after each manifest). */
function registryRepository(c: Registry, repository: string, counted: () => void): Sink & Source {
  const { host, path } = split(repository);
  return {
    name: repository,
    hasBlob: (d) => c.hasBlob(path, d),
    putBlob: async (d, bytes, o) => void (await c.pushBlob(path, d, bytes, o)),
    putBlobFile: async (d, file, size) => void (await c.pushBlob(path, d, { size, open: () => createReadStream(file) })),
    mountBlob: async (d, from) => {
      const other = split(from);
      if (other.host !== host) return false;
      return (await c.mountBlob(path, d, other.path)) !== 'not-mounted';
    },
    hasManifest: (d) => c.hasManifest(path, d, ACCEPT),
    putManifest: async (ref, mediaType, bytes) => {
      await c.putManifest(path, ref, mediaType, bytes);
      counted();
    },
    resolveTag: (tag) => unless404(async () => (await c.resolve(path, tag, ACCEPT)).digest),
    readTag: (tag, max) => unless404(async () => (await c.getManifest(path, tag, ACCEPT, { maxBytes: Math.min(max, MAX_MANIFEST) })).bytes),
    getManifest: async (d, max) => (await c.getManifest(path, d, ACCEPT, { maxBytes: Math.min(max, MAX_MANIFEST) })).bytes,
    getBlob: (d, max) => c.getBlob(path, d, { maxBytes: max }),
    streamBlob: (d) => c.openBlob(path, d),
  };
}

/** cosign's signature tags (`sha256-<hex>.sig`), which a layout names after their site. */
const SIGNATURE_TAG = /^sha256-[0-9a-f]{64}\.sig$/;

/**
 * The layout's name of `tag` of `repository`. One layout holds many sites, and a release part
 * booted by two sites has a signature in each site's repository (its payload names it), so a
 * signature is named `<site>/sha256-<hex>.sig` (the repository's last component, as import names
 * repositories); any other tag is its own name.
 */
export function layoutRefName(repository: string, tag: string): string {
  return SIGNATURE_TAG.test(tag) ? `${repository.slice(repository.lastIndexOf('/') + 1)}/${tag}` : tag;
}

/**
 * A layout as a Sink and Source: one store for every repository (a tag names a site or a release).
 * The names it gives are kept in memory and written into index.json at once by `flush` (an export
 * of many sites names thousands: index.json written at each would grow as their square).
 */
function layoutSink(layout: OciLayout, counts: SinkCounts): Sink & Source & { flush(): Promise<void> } {
  const pending = new Map<string, Descriptor>();
  let written: Promise<Descriptor[]> | undefined;
  const lookup = async (tag: string): Promise<string | undefined> =>
    pending.get(tag)?.digest ?? (await (written ??= layout.index())).find((d) => d.annotations?.[REF_NAME] === tag)?.digest;
  return {
    name: `oci:${layout.dir}`,
    hasBlob: (d) => layout.hasBlob(d),
    putBlob: async (d, bytes) => {
      if (await layout.hasBlob(d)) {
        counts.blobsSkipped++;
        return;
      }
      const got = await layout.writeBlob(bytes);
      if (got !== d) throw new Error(`blob ${d}: the bytes hash to ${got}`);
      counts.blobsUploaded++;
      counts.bytesUploaded += bytes.length;
    },
    putBlobFile: async (d, file, size) => {
      if (await layout.hasBlob(d)) return;
      await layout.writeBlobStream(d, createReadStream(file), size);
      counts.blobsUploaded++;
      counts.bytesUploaded += size;
    },
    mountBlob: (d) => layout.hasBlob(d),
    hasManifest: (d) => layout.hasBlob(d),
    putManifest: async (ref, mediaType, bytes) => {
      const digest = await layout.writeBlob(bytes);
      counts.manifestsPut++;
      if (ref.startsWith('sha256:')) return;
      const m = JSON.parse(bytes.toString('utf8')) as { artifactType?: string; annotations?: Record<string, string> };
      pending.set(ref, {
        mediaType,
        digest,
        size: bytes.length,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations?.[ANNOTATION.site] ? { annotations: { [ANNOTATION.site]: m.annotations[ANNOTATION.site]! } } : {}),
      });
    },
    resolveTag: lookup,
    readTag: async (tag, max) => {
      const d = await lookup(tag);
      return d === undefined ? undefined : layout.readBlob(d, { maxBytes: Math.min(max, MAX_MANIFEST) });
    },
    getManifest: (d, max) => layout.readBlob(d, { maxBytes: Math.min(max, MAX_MANIFEST) }),
    getBlob: (d, max) => layout.readBlob(d, { maxBytes: max }),
    streamBlob: async (d): Promise<Readable> => layout.openBlob(d),
    flush: async () => {
      if (pending.size === 0) return;
      await layout.setRefs([...pending].map(([ref, descriptor]) => ({ ref, descriptor })));
      written = undefined;
      pending.clear();
    },
  };
}

/** `oci:<dir>` or `oci-archive:<file>`, or why not. */
function parseLayoutRef(text: string): { kind: 'dir' | 'archive'; path: string } | { problem: string } {
  const m = /^(oci|oci-archive):(.+)$/.exec(text);
  if (!m) return { problem: 'an OCI layout: oci:<directory> or oci-archive:<file.tar>' };
  return { kind: m[1] === 'oci' ? 'dir' : 'archive', path: resolve(m[2]!) };
}

/** Where export writes: a layout directory, or one written as an archive when closed. */
export function layoutTarget(text: string) {
  const ref = parseLayoutRef(text);
  if ('problem' in ref) return ref;
  const counts = zeroCounts();
  const dir = ref.kind === 'dir' ? ref.path : mkdtempSync(join(tmpdir(), 'harvgen-export-'));
  let store: Promise<ReturnType<typeof layoutSink>> | undefined;
  const open = () => (store ??= OciLayout.create(dir).then((l) => layoutSink(l, counts)));
  const lazy: Sink = {
    name: `${text}`,
    hasBlob: async (d) => (await open()).hasBlob(d),
    putBlob: async (d, b) => (await open()).putBlob(d, b),
    putBlobFile: async (d, f, s) => (await open()).putBlobFile(d, f, s),
    mountBlob: async (d, f) => (await open()).mountBlob(d, f),
    hasManifest: async (d) => (await open()).hasManifest(d),
    putManifest: async (r, m, b) => (await open()).putManifest(r, m, b),
    resolveTag: async (t) => (await open()).resolveTag(t),
    readTag: async (t, m) => (await open()).readTag(t, m),
  };
  return {
    /** The layout seen from `repository`: its signature tags named after its site (layoutRefName). */
    sinkFor: (repository: string): Sink => {
      const name = (tag: string) => layoutRefName(repository, tag);
      return {
        ...lazy,
        putManifest: (r, m, b) => lazy.putManifest(r.startsWith('sha256:') ? r : name(r), m, b),
        resolveTag: (t) => lazy.resolveTag(name(t)),
        readTag: (t, m) => lazy.readTag(name(t), m),
      };
    },
    /** Write the names into index.json, then the archive (when one was asked for), and drop the temporary directory. */
    async close(ok: boolean): Promise<SinkCounts> {
      if (ref.kind === 'dir') {
        if (store) await (await store).flush();
        return counts;
      }
      try {
        if (ok) await (await open()).flush();
        if (ok) await writeArchive(dir, ref.path);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return counts;
    },
  };
}

/** Where pull --from reads: a layout directory, or an archive unpacked into a temporary directory. */
export function layoutSource(text: string) {
  const ref = parseLayoutRef(text);
  if ('problem' in ref) return ref;
  let store: Promise<Sink & Source> | undefined;
  const open = () =>
    (store ??= (async () => {
      if (ref.kind === 'dir') return layoutSink(await OciLayout.open(ref.path), zeroCounts());
      const dir = mkdtempSync(join(tmpdir(), 'harvgen-import-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      return layoutSink(await readArchive(ref.path, dir), zeroCounts());
    })());
  const source: Source = {
    name: text,
    resolveTag: async (t) => (await open()).resolveTag(t),
    getManifest: async (d, m) => (await open()).getManifest(d, m),
    getBlob: async (d, m) => (await open()).getBlob(d, m),
    streamBlob: async (d) => (await open()).streamBlob(d),
  };
  return { sourceFor: (_repository: string): Source => source };
}

/** `harvgen import`: every site (and release) a layout names, into `<registry>/<site>` with its tags. */
export async function importLayout(
  text: string,
  registry: string,
  options: RegistryTargetOptions = {},
): Promise<{ imported: { site: string; digest: string; repository: string; tags: string[] }[]; diagnostics: Diagnostic[] }> {
  const ref = parseLayoutRef(text);
  const fail = (message: string): Diagnostic => ({
    code: 'PUBLISH_FAILED',
    severity: 'error',
    message,
    hint: 'Check the layout (`skopeo inspect --raw oci:<dir>:<site>`), the registry address, your credentials and its CA.',
  });
  if ('problem' in ref) return { imported: [], diagnostics: [fail(`${text}: ${ref.problem}`)] };
  const target = registryTarget(options);
  const tmp = ref.kind === 'archive' ? mkdtempSync(join(tmpdir(), 'harvgen-import-')) : undefined;
  try {
    const layout = ref.kind === 'dir' ? await OciLayout.open(ref.path) : await readArchive(ref.path, tmp!);
    const source = graphLayoutStore(layout);
    const entries = await layout.index();
    const imported: { site: string; digest: string; repository: string; tags: string[] }[] = [];
    // Releases first: a site's index names them, and a registry takes an index only once all it names is there.
    const named = entries.map((e) => ({ e, name: e.annotations?.[REF_NAME] ?? '' })).filter((x) => x.name !== '');
    const sites = named.filter((x) => x.e.artifactType === MEDIA.site);
    const releases = named.filter((x) => x.e.artifactType === MEDIA.part);
    // A site's companions (no artifact type): its cluster side (`<site>-cluster`) and the cosign
    // signatures of every manifest it pushed, `<site>/sha256-<hex>.sig` (layoutRefName; a layout
    // of an older harvgen: `sha256-<hex>.sig`, its index's and cluster side's alone), go into
    // the site's repository as `sha256-<hex>.sig`.
    const companions = named.filter((x) => x.e.artifactType === undefined);
    const clusters = companions.filter((x) => x.name.endsWith('-cluster'));
    const signatures = companions.filter((x) => /^(?:[^/]+\/)?sha256-[0-9a-f]{64}\.sig$/.test(x.name));
    for (const { e, name } of releases) await copyArtifact(source, target.graphStore(`${registry}/releases`), e, { tags: [name] });
    // As publish does: everything by digest first, then the signatures, then the tags that name
    // what they sign (a verifier that follows a tag finds its signature there).
    const repositoryOf = new Map<string, string>();
    const tagged: { e: (typeof named)[number]['e']; name: string; repository: string }[] = [];
    for (const { e, name } of sites) {
      const site = e.annotations?.[ANNOTATION.site] ?? name.replace(/-[0-9a-f]{12}$/, '');
      const repository = `${registry}/${site.toLowerCase()}`;
      await copyArtifact(source, target.graphStore(repository), e);
      tagged.push({ e, name, repository });
      repositoryOf.set(e.digest, repository);
      repositoryOf.set(`site:${site}`, repository);
      const prior = imported.find((i) => i.site === site && i.digest === e.digest);
      if (prior) prior.tags.push(name);
      else imported.push({ site, digest: e.digest, repository, tags: [name] });
    }
    for (const { e, name } of clusters) {
      const repository = repositoryOf.get(`site:${name.slice(0, -'-cluster'.length)}`);
      if (repository === undefined) continue;
      await copyArtifact(source, target.graphStore(repository), e);
      tagged.push({ e, name, repository });
      repositoryOf.set(e.digest, repository);
    }
    const siteRepositories = new Set(repositoryOf.values());
    for (const { e, name } of signatures) {
      const slash = name.indexOf('/');
      const tag = name.slice(slash + 1);
      const repository =
        slash < 0 ? repositoryOf.get(tag.slice(0, -'.sig'.length).replace('-', ':')) : `${registry}/${name.slice(0, slash)}`;
      if (repository !== undefined && siteRepositories.has(repository))
        await copyArtifact(source, target.graphStore(repository), e, { tags: [tag] });
    }
    for (const { e, name, repository } of tagged) await copyArtifact(source, target.graphStore(repository), e, { tags: [name] });
    return { imported, diagnostics: [] };
  } catch (e) {
    return { imported: [], diagnostics: [fail(`importing ${text} into ${registry}: ${(e as Error).message}`)] };
  } finally {
    target.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
