// An OS profile's boot files (kernel, initrds, shim) and whether the boot server serves them. The
// generated nginx serves the tree's own files and the release files it was told of
// (`servedArtifacts`), nothing else (`location / { return 404; }`): a profile URL on the boot
// server's origin is a file nobody serves unless someone adds a location for it by hand. The
// rule `os-profile-files` and `status` both ask here.
import { servedArtifacts } from './served-releases.ts';
import type { ResolvedOs, SiteModel } from './types.ts';

/** One boot file of an OS profile, with the profile key that names it. */
export interface OsFile {
  readonly what: 'kernel' | 'initrd' | 'shim';
  /** The key under `os_profiles.<name>`: `kernel`, `shim`, or `initrds` and the index. */
  readonly key: readonly ['kernel'] | readonly ['shim'] | readonly ['initrds', number];
  readonly url: string;
}

/** The boot files a profile names, kernel first. */
export function osFiles(os: Pick<ResolvedOs, 'kernel' | 'initrds' | 'shim'>): OsFile[] {
  return [
    { what: 'kernel', key: ['kernel'], url: os.kernel },
    ...os.initrds.map((url, i): OsFile => ({ what: 'initrd', key: ['initrds', i], url })),
    ...(os.shim !== undefined ? [{ what: 'shim', key: ['shim'], url: os.shim } as const] : []),
  ];
}

/**
 * True when `url` is on the boot server (the origin of `boot.server`, as `servesRelease` takes it)
 * and is none of the release files its nginx serves: the generated nginx answers 404 for it.
 */
export function unservedOnBootServer(model: SiteModel, url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  if (u.hostname !== model.boot.host || port !== model.boot.port) return false;
  return !servedArtifacts(model).some((a) => a.location === u.pathname);
}
