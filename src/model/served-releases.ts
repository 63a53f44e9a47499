// The Harvester releases a site installs, and which of their files the site's own nginx serves
// (a fact the rules between sites, fetch.sh, the manifest and the nginx config share).
import type { HarvesterNode, Release, SiteModel } from './types.ts';

/** The release's files are on the boot server (`harvester.artifacts` has its origin), so this nginx serves them. */
export function servesRelease(model: SiteModel, r: Release): boolean {
  const base = new URL(r.artifacts.base);
  const port = base.port ? Number(base.port) : 80;
  return base.protocol === 'http:' && base.hostname === model.boot.host && port === model.boot.port;
}

/**
 * Release files nginx serves for this site: those whose URL has the boot server's origin. Each
 * gets an exact location aliased to its file, so no directory can be listed or redirected.
 */
export function servedArtifacts(model: SiteModel): { location: string; file: string }[] {
  return releases(model).flatMap((r) => {
    const a = r.artifacts;
    if (!servesRelease(model, r)) return [];
    const path = new URL(a.base).pathname.replace(/\/+$/, '');
    return [a.kernelName, a.initrdName, a.rootfsName, a.isoName, a.checksumName, ...(releaseShim(model, r) ? [a.shimName] : [])].map(
      (name) => ({
        location: `${path}/${name}`,
        file: `${r.artifactsDir}/${name}`,
      }),
    );
  });
}

/** The release's SUSE shim is served (and fetched) when the site boots x86-64 machines with Secure Boot. */
export function releaseShim(model: SiteModel, r: Release): boolean {
  return model.boot.secureBoot !== undefined && model.boot.firmware === 'uefi' && r.arch === 'x86_64';
}

/** Each model's releases and installers, computed once (a model is frozen; several files and rules ask). */
const releasesOf = new WeakMap<SiteModel, readonly Release[]>();
const installersOf = new WeakMap<SiteModel, readonly HarvesterNode[]>();

/**
 * Every release the site's Harvester nodes install (and unknown machines joining), the site's
 * first, then others by version. Generic OS and iSCSI nodes install none.
 */
export function releases(model: SiteModel): readonly Release[] {
  let found = releasesOf.get(model);
  if (found) return found;
  const key = (r: Release) => `${r.version.raw}/${r.arch}`;
  // One entry per release, then in version order. Nodes share their site's objects: the distinct
  // objects first (no key made per node), then one per key, the first object met keeping it.
  const objects = new Set<Release>();
  let site: Release | undefined;
  for (const n of installers(model)) {
    if (n.release === model.release) site = n.release;
    objects.add(n.release);
  }
  const distinct = new Map<string, Release>();
  for (const r of objects) if (!distinct.has(key(r))) distinct.set(key(r), r);
  const out = new Map<string, Release>();
  if (site) out.set(key(site), site);
  for (const r of [...distinct.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1))) {
    if (!out.has(key(r))) out.set(key(r), r);
  }
  releasesOf.set(model, (found = Object.freeze([...out.values()])));
  return found;
}

/** The site's Harvester nodes, and the node unknown machines join as (`boot.unknown: join`). */
export function installers(model: SiteModel): readonly HarvesterNode[] {
  let found = installersOf.get(model);
  if (found) return found;
  const nodes = model.nodes.filter((n): n is HarvesterNode => n.boot === 'harvester');
  installersOf.set(model, (found = Object.freeze(model.unknownJoin ? [...nodes, model.unknownJoin] : nodes)));
  return found;
}
