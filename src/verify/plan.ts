// What verify asks a boot server, from one site's manifest.json: every served file (status 200,
// its bytes, its Content-Type, or 403 for a file whose access rules leave verify's address
// out), every path that must not answer (the tree's other files, listings, build state,
// secrets, traversal, random names), and with --releases the release files. Pure: no I/O.
import { randomBytes } from 'node:crypto';
import { CONFIG_FORMATS, HARVESTER_CONFIG, formatOfPath } from '../derive/configs/index.ts';
import { isSafeRelativePath } from '../render/artifact.ts';
import { DIRS, LAYOUT } from '../derive/layout.ts';
import type { DeployManifest } from './manifest.ts';
import { addressAllowed } from '../util/ipv4.ts';
import { PROBE_MAC_PREFIX, PROBE_NAME_PREFIX, STATE_PATH } from './identity.ts';

/** True when `address` is among `allow` (addresses, IPv4 networks, or `all`). */
export const allowed = addressAllowed;

/** One boot server as it serves one site: its origin and the path prefix of the site's tree. */
export interface Server {
  /** As the user gave it (or the site's boot.server). */
  readonly url: string;
  readonly origin: URL;
  /** The path the tree is served under, no trailing slash (`''` at the root). */
  readonly prefix: string;
}

/** What a check expects. */
export type Expect =
  /** A file of the tree: 200, its bytes and type; 403 instead when `allow` leaves verify's address out. */
  | {
      readonly kind: 'served';
      readonly path: string;
      readonly sha256: string;
      readonly size: number;
      readonly type: ContentKind;
      readonly allow?: readonly string[];
    }
  /** Must not be served: 403 or 404 (400 for a path nginx refuses to parse), never 2xx or 3xx. */
  | { readonly kind: 'refused'; readonly what: string }
  /** A release file: 200, octet-stream, its size as announced, its SHA-512 as the published list says. */
  | { readonly kind: 'release'; readonly name: string; readonly sums: string; readonly pinned?: string }
  /** The release's SHA-512 list as the boot server serves it: the published one, byte for byte. */
  | { readonly kind: 'sums'; readonly sums: string };

/** One request and what its answer must be. */
export interface Check {
  readonly site: string;
  readonly server: Server;
  /** The path sent, exactly (traversal probes stay unnormalised). */
  readonly rawPath: string;
  /** The URL shown to the user (origin + rawPath). */
  readonly url: string;
  readonly expect: Expect;
}

/** How nginx serves a file (templates/nginx.conf.eta): scripts and configs as text, binaries as octet-stream. */
export type ContentKind = 'text' | 'binary';

/** The Content-Type the generated nginx config sends for each kind. */
export const CONTENT_TYPES: Readonly<Record<ContentKind, string>> = {
  // `types { } default_type text/plain; charset utf-8;` in their locations.
  text: 'text/plain; charset=utf-8',
  // No types of their own: the server's `default_type application/octet-stream` (none of the
  // names has an extension mime.types maps).
  binary: 'application/octet-stream',
};

/** Scripts and the served config formats (their declarations' `content`) are text (templates/nginx.conf.eta); the rest is binary. */
export function contentKind(path: string): ContentKind {
  const text =
    path === LAYOUT.entryScript ||
    path === LAYOUT.unknownScript ||
    path === LAYOUT.unknownJoinConfig ||
    path.startsWith(`${DIRS.scripts}/`) ||
    formatOfPath(path)?.content === 'text';
  return text ? 'text' : 'binary';
}

/**
 * The server for one site: `given` with a path stands for `boot.server` itself; a bare origin
 * (`http://mirror:8080`) serves the site under the same path prefix as `boot.server`.
 */
export function serverFor(bootServer: string, given?: string): Server {
  const own = new URL(bootServer);
  const u = given !== undefined ? new URL(given) : own;
  const path = (given !== undefined && u.pathname !== '/' ? u.pathname : own.pathname).replace(/\/+$/, '');
  return { url: given ?? bootServer, origin: new URL(u.origin), prefix: path };
}

const check = (site: string, server: Server, rawPath: string, expect: Expect): Check => ({
  site,
  server,
  rawPath,
  url: `${server.origin.origin}${rawPath}`,
  expect,
});

/** The served files and the paths that must not answer, for one site on one server. */
export function planSite(m: DeployManifest, server: Server, secretFiles: readonly string[] = [], random = randomName): Check[] {
  const out: Check[] = [];
  const boot = m.boot.server.replace(/\/+$/, '');
  for (const f of m.files) {
    if (f.url === undefined) continue;
    const rel = f.url.startsWith(`${boot}/`) ? f.url.slice(boot.length + 1) : f.path;
    // A protected file is also served to the boot server itself and nginx.verify_from (manifest boot.verifiers).
    out.push(servedCheck(m.site, server, rel, f.allow !== undefined ? { ...f, allow: [...(m.boot.verifiers ?? []), ...f.allow] } : f));
  }
  const refused = refuser(m.site, server, out);
  // The tree's files nginx does not serve: a few of each directory show whether it is exposed.
  const perDir = new Map<string, number>();
  for (const f of m.files) {
    if (f.url !== undefined) continue;
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : '';
    const n = perDir.get(dir) ?? 0;
    perDir.set(dir, n + 1);
    if (n < 3) refused(f.path, `${f.path} (a file of the tree that is not served)`);
  }
  const unservedDirs = [...perDir.keys()].filter((d) => d !== '' && !UNSERVED_DIRS.includes(d));
  for (const d of unservedDirs.sort()) refused(`${d}/`, `the directory ${d}/ (not served)`);
  // A format served as a directory per owner (a NoCloud seed): no listing of one either.
  for (const f of CONFIG_FORMATS.filter((x) => x.entries !== undefined)) {
    const first = m.files.find((x) => x.url !== undefined && x.path.startsWith(`${f.dir}/`));
    if (first) refused(first.path.slice(0, first.path.lastIndexOf('/') + 1), `a listing of a ${f.title} directory`);
  }
  for (const p of secretFiles.filter(isSafeRelativePath)) refused(p, `${p} (the site's secrets)`);
  // Keyed names: the plain names of the node data they replace must not answer (a copy from before the key).
  for (const p of m.plainData ?? []) refused(p, `${p} (the plain name of a node's keyed file: a copy from before nginx.file_key)`);
  const taken = new Set(m.files.map((f) => f.path));
  // Each path once (a secret file reference may name secrets/token, which every site probes).
  const seen = new Set<string>();
  return [...out, ...treelessProbes(m.site, server, random, taken)].filter((c) => !seen.has(c.rawPath) && !!seen.add(c.rawPath));
}

/** A file the server must serve, at `rel` under the server's prefix. */
export function servedCheck(
  site: string,
  server: Server,
  rel: string,
  f: { readonly path: string; readonly sha256: string; readonly size: number; readonly allow?: readonly string[] | undefined },
): Check {
  return check(site, server, `${server.prefix}/${rel}`, {
    kind: 'served',
    path: f.path,
    sha256: f.sha256,
    size: f.size,
    type: contentKind(f.path),
    ...(f.allow !== undefined ? { allow: f.allow } : {}),
  });
}

/** Directories of every tree that nginx never serves. */
const UNSERVED_DIRS: readonly string[] = [DIRS.bmc, DIRS.libvirt, DIRS.systemd, 'dnsmasq', 'nginx'];

/** Adds a must-not check for a path under the server's prefix to `out`; never one for the served state file. */
function refuser(site: string, server: Server, out: Check[]): (rel: string, what: string) => void {
  return (rel, what) => {
    // The materializer's state.json is served on purpose (verify --fleet reads it).
    if (rel === STATE_PATH) return;
    out.push(check(site, server, `${server.prefix}/${rel}`, { kind: 'refused', what }));
  };
}

/**
 * What must not answer on any boot server of a site, known without its deploy tree (verify
 * --fleet probes these from the fleet record alone; planSite adds the tree's own): manifest.json
 * and its signature, the directories nginx never serves, listings of the root, of each served
 * directory and of `.harvgen/`, the build state, `.git`, the secrets directory, traversal, names
 * nobody built. `taken`: the tree's paths, when known (the made-up MAC is never one of them).
 */
export function treelessProbes(
  site: string,
  server: Server,
  random: () => string = randomName,
  taken: ReadonlySet<string> = new Set(),
): Check[] {
  const out: Check[] = [];
  const refused = refuser(site, server, out);
  refused(LAYOUT.manifest, 'manifest.json (the list of every file of the tree)');
  refused(LAYOUT.manifestSignature, 'manifest.json.sig (the signature of manifest.json, never served)');
  for (const d of [...UNSERVED_DIRS].sort()) refused(`${d}/`, `the directory ${d}/ (not served)`);
  // Served directories: never a listing, and no redirect from the name without its slash.
  refused('', 'a listing of the root of the tree');
  const listed = [DIRS.scripts, ...CONFIG_FORMATS.map((f) => f.dir), DIRS.unknown];
  for (const d of listed) refused(`${d}/`, `a listing of ${d}/`);
  refused(`${STATE_DIR}/`, `a listing of ${STATE_DIR}/ (only ${STATE_PATH} and ${LAYOUT.servedConfig} are served there)`);
  for (const d of [DIRS.scripts, HARVESTER_CONFIG.dir, 'dnsmasq']) refused(d, `${d} without its slash (a redirect to a listing)`);
  // harvgen's build state, git's and the secrets, should either have been copied next to the tree.
  for (const p of ['.harvgen-cache/', '.harvgen.lock', '.harvgen-journal.json', '.gitignore'])
    refused(p, `${p} (harvgen's build state, never served)`);
  for (const p of ['.git/', '.git/config', '.git/HEAD']) refused(p, `${p} (a git repository, never served)`);
  for (const p of ['secrets/', 'secrets/token', 'secrets/password']) refused(p, `${p} (the site's secrets)`);
  // Traversal, plain and encoded: nginx must resolve it inside the served locations or refuse it.
  for (const p of [
    `${DIRS.scripts}/../${LAYOUT.manifest}`,
    `${DIRS.scripts}/%2e%2e/${LAYOUT.manifest}`,
    `${DIRS.scripts}/..%2f${LAYOUT.manifest}`,
    `${DIRS.configs}/%2e%2e%2f${LAYOUT.manifest}`,
    `${DIRS.scripts}/../../../../../etc/passwd`,
  ])
    refused(p, `${p} (path traversal)`);
  // Names nobody built: an unknown MAC must get 404 (boot.ipxe then falls back to unknown.ipxe on it).
  let mac = '';
  do mac = randomMac(random);
  while (taken.has(LAYOUT.nodeScript(mac)));
  const r = random();
  for (const [p, what] of [
    [r, 'a random name'],
    [`${r}.ipxe`, 'a random name'],
    [LAYOUT.nodeScript(mac), 'the script of a MAC no node has (must be 404: boot.ipxe falls back to unknown.ipxe on it)'],
    // Each served config format, for an owner nobody has.
    ...CONFIG_FORMATS.map((f): [string, string] =>
      f.owner === 'host'
        ? [f.plain(r), `the ${f.title} of a node that does not exist`]
        : [`${f.plain(mac)}${f.entries?.[0] ?? ''}`, `the ${f.title} of a MAC no node has`],
    ),
  ] as const)
    refused(p, `${p} (${what})`);
  return out;
}

/** The directory of the served state file (`.harvgen`). */
const STATE_DIR = STATE_PATH.slice(0, STATE_PATH.indexOf('/'));

/**
 * The release files of a site (manifest `artifacts`) on one server, when they are under the
 * site's boot server origin (else nginx does not serve them: `skipped`), and the SHA-512 list
 * the server holds next to them. `sums` names the published list each is checked against.
 */
export function planReleases(m: DeployManifest, server: Server): { checks: Check[]; sums: ReleaseSums[]; skipped: string[] } {
  const a = m.artifacts;
  if (!a || m.harvester_version === undefined) return { checks: [], sums: [], skipped: [] };
  const boot = new URL(m.boot.server);
  const bootPath = boot.pathname.replace(/\/+$/, '');
  const mapped = (url: string): string | undefined => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    if (u.origin !== boot.origin) return undefined;
    // Under boot.server: the server's prefix replaces boot.server's; elsewhere on its origin: as it is.
    return bootPath !== '' && u.pathname.startsWith(`${bootPath}/`) ? server.prefix + u.pathname.slice(bootPath.length) : u.pathname;
  };
  // fetch.sh's list: harvester-<version>-<arch>.sha512 next to the ISO (src/model/release.ts names it).
  const isoName = a.iso.slice(a.iso.lastIndexOf('/') + 1);
  const sumsName = isoName.replace(/\.iso$/, '.sha512');
  const sums: ReleaseSums = { version: m.harvester_version, name: sumsName };
  const key = `${sums.version}/${sums.name}`;
  const checks: Check[] = [];
  const skipped: string[] = [];
  const files: [string, string][] = [
    ['kernel', a.kernel],
    ['initrd', a.initrd],
    ['rootfs', a.rootfs],
    ['iso', a.iso],
    ...(a.shim !== undefined ? [['shim', a.shim] as [string, string]] : []),
  ];
  for (const [, url] of files) {
    const p = mapped(url);
    if (p === undefined) skipped.push(url);
    else checks.push(check(m.site, server, p, { kind: 'release', name: url.slice(url.lastIndexOf('/') + 1), sums: key }));
  }
  const isoPath = mapped(a.iso);
  if (isoPath !== undefined)
    checks.push(check(m.site, server, `${isoPath.slice(0, isoPath.lastIndexOf('/') + 1)}${sumsName}`, { kind: 'sums', sums: key }));
  const all: ReleaseSums[] = checks.length > 0 ? [sums] : [];
  // A planned upgrade's target ISO (harvester.upgrade): in its release's published list, and the
  // very one the inventory pins.
  const u = m.upgrade;
  const target = u !== undefined ? mapped(u.iso) : undefined;
  if (u !== undefined && target === undefined) skipped.push(u.iso);
  if (u !== undefined && target !== undefined) {
    const name = u.iso.slice(u.iso.lastIndexOf('/') + 1);
    const targetSums: ReleaseSums = { version: u.version, name: name.replace(/\.iso$/, '.sha512') };
    const targetKey = `${targetSums.version}/${targetSums.name}`;
    checks.push(check(m.site, server, target, { kind: 'release', name, sums: targetKey, pinned: u.iso_sha512 }));
    all.push(targetSums);
  }
  return { checks, sums: all, skipped };
}

/** A release's published SHA-512 list: `<release base>/<version>/<name>`, as fetch.sh downloads it. */
export interface ReleaseSums {
  readonly version: string;
  readonly name: string;
}

/** Hex digest by file name from a `sha512sum` list (`<hex>  name` or `<hex> *name`). */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{128}) [ *](.+?)\s*$/.exec(line);
    if (m) out.set(m[2]!.replace(/^.*\//, ''), m[1]!.toLowerCase());
  }
  return out;
}

/** A name nobody built, in verify's probe space (src/verify/identity.ts): also a valid hostname. */
function randomName(): string {
  return `${PROBE_NAME_PREFIX}${randomBytes(6).toString('hex')}`;
}

/** A MAC nobody has, in verify's probe space: its prefix, then three bytes of random hex. */
function randomMac(random: () => string): string {
  const hex = (random() + random()).replace(/[^0-9a-f]/g, '').padEnd(6, '0');
  return [PROBE_MAC_PREFIX, ...(hex.slice(-6).match(/../g) ?? [])].join(':');
}
