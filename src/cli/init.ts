// `harvgen init <site-dir>`: a commented starting point that passes `check` as written: site.yaml
// and a file per node (bare metal, or a libvirt lab with --lab; every node `state: install-once`),
// each with the editor modeline pointing at the schema this harvgen ships,
// the cluster token and password in secrets/ (random, listed in a .gitignore there). It never
// overwrites and never writes through a symbolic link: everything is checked before anything is
// written (an existing file or link, dangling or not, at any path it would create, a link or
// non-directory where it needs a directory, or a link in the path below the repository), and when a write fails after it started, what it
// created is removed again, so it leaves a whole site or nothing.
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { discoverSites } from '../load/discover.ts';
import { KNOWN_RELEASES, newestRelease } from '../harvester/releases.ts';
import { MAX_INIT_NODES, PLACEHOLDER_DISK, placeholderMac } from '../util/init-placeholders.ts';
import { packageFile } from '../util/package-root.ts';

const schemaDir = `${packageFile('schema')}/`;

/** What kind of site init writes. */
export interface InitOptions {
  /** A lab of libvirt VMs (a `lab:` section, the libvirt NAT network); default: bare metal. */
  readonly lab?: boolean;
  /** How many Harvester nodes (default 3: the smallest cluster that keeps working when one fails). */
  readonly nodes?: number;
  /** The Harvester release (`vX.Y.Z`, one harvgen knows; default the newest it knows). */
  readonly release?: string;
}

export { MAX_INIT_NODES } from '../util/init-placeholders.ts';

/** Why these options cannot make a site (a usage error), or undefined. */
export function initOptionsProblem(o: InitOptions): string | undefined {
  if (o.nodes !== undefined && !(Number.isInteger(o.nodes) && o.nodes >= 1 && o.nodes <= MAX_INIT_NODES))
    return `--nodes ${String(o.nodes)}: a whole number of Harvester nodes from 1 to ${MAX_INIT_NODES}`;
  if (o.release !== undefined && !KNOWN_RELEASES.some((r) => r.version === o.release))
    return `--release ${o.release}: not a Harvester release harvgen knows (vX.Y.Z); the newest it knows is ${newestRelease()}`;
  return undefined;
}

/** What init wrote, or why it did not (`io`: a file could not be written, rather than a wrong request). */
export type InitResult = { readonly files: readonly string[]; readonly site: string } | { readonly error: string; readonly io?: boolean };

/** A site name from a directory name: lowercase, only [a-z0-9_-], no leading or trailing separator. */
export function siteNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
  return name === '' ? 'site' : name;
}

const modeline = (from: string, schema: string) =>
  `# yaml-language-server: $schema=${relative(from, join(schemaDir, schema)).split(sep).join('/')}`;

/** What is at `path`, without following a link there (`error:<code>`: it cannot be told). */
function kindAt(path: string): 'none' | 'dir' | 'link' | 'other' | `error:${string}` {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    // Missing, or a parent that is not a directory (reported at the parent).
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'none' : `error:${code}`;
  }
  return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other';
}

/** A `.git` directory or regular file directly in `dir` (as src/load/repo.ts looks for one). */
function hasGit(dir: string): boolean {
  const kind = kindAt(join(dir, '.git'));
  return kind === 'dir' || kind === 'other';
}

/** `/`, a home directory (`~`, `/root`, `/home`, `/home/<user>`): never a repository (as src/load/repo.ts). */
function isTooWide(dir: string): boolean {
  return dirname(dir) === dir || dir === '/root' || dir === '/home' || dirname(dir) === '/home' || dir === resolve(homedir());
}

/**
 * Why init may not write at `root` (absolute): a symbolic link on the way to it, which would make
 * init write elsewhere than the path says (a link committed in a repository, `sites/x -> /tmp/y`).
 * Every existing directory below the boundary on the way to `root` must be a real one. The
 * boundary is the repository (the nearest real directory above `root` with a `.git` directory or
 * file, not `/` or a home directory, as src/load/repo.ts takes it); without one, the working
 * directory when `root` is below it (a site unpacked from an archive), else the nearest existing
 * directory above `root`, which must itself be real. Links above the boundary (a linked /home)
 * are the machine's own and allowed. The site directory itself is checked with nodes/ and secrets/.
 */
function linkOnTheWay(dir: string, root: string): { error: string; io?: boolean } | undefined {
  // A link shown as the path was given: relative to the working directory when `dir` is.
  const show = (p: string) => (isAbsolute(dir) ? p : relative(process.cwd(), p) || '.');
  const refuse = (link: string, where: string) => ({
    error: `${show(link)} is a symbolic link${where}; harvgen init never writes through a link (pick a path without one)`,
  });
  let link: string | undefined; // the nearest link on the way
  let existing: string | undefined; // the nearest existing path: `root` or above it
  for (let p = root; ; p = dirname(p)) {
    const kind = kindAt(p);
    if (kind.startsWith('error:')) return { error: `cannot look at ${show(p)}: ${kind.slice(6)}`, io: true };
    if (kind === 'link' && p === root) return undefined;
    if (kind !== 'none') existing ??= p;
    if (kind === 'link') link ??= p;
    if (kind === 'dir' && hasGit(p) && !isTooWide(p)) return link === undefined ? undefined : refuse(link, ` inside the repository ${p}`);
    if (dirname(p) === p) break;
  }
  if (link === undefined) return undefined;
  const cwd = process.cwd();
  if (!isTooWide(cwd) && root.startsWith(cwd + sep) && link.startsWith(cwd + sep)) return refuse(link, ` inside the working directory`);
  return link === existing ? refuse(link, '') : undefined;
}

/** Scaffold a site in `dir` (created when missing). */
export async function initSite(dir: string, options: InitOptions = {}): Promise<InitResult> {
  const problem = initOptionsProblem(options);
  if (problem) return { error: problem };
  const root = resolve(dir);
  const site = siteNameFor(root);
  const kind: SiteKind = {
    lab: options.lab === true,
    release: options.release ?? newestRelease(),
    // Beside a site served at this placeholder address: under a path prefix of its own, so that
    // checking them all does not find two sites at one URL (SITE_SERVER_CONFLICT).
    ...((await servedBeside(root, `${net(options.lab === true)}.1`)) ? { prefix: `/${site}` } : {}),
  };
  const nodeFiles = Object.fromEntries(
    Array.from({ length: options.nodes ?? 3 }, (_, i) => [
      `nodes/node-${i + 1}.yaml`,
      nodeYaml(modeline(join(root, 'nodes'), 'node.schema.json'), i + 1, kind.lab),
    ]),
  );
  const files: Record<string, string> = {
    'site.yaml': siteYaml(modeline(root, 'site.schema.json'), site, kind),
    ...nodeFiles,
    'secrets/token': `${randomBytes(24).toString('base64url')}\n`,
    'secrets/password': `${randomBytes(12).toString('base64url')}\n`,
    'secrets/.gitignore': '# Keep the secrets out of git; create them on the machine that builds.\n*\n!.gitignore\n',
  };
  // Check everything first. The directories init may create: the site directory (and the
  // missing ones above it), nodes/ and secrets/; each must be missing or a real directory.
  const dirs = ['', 'nodes', 'secrets'];
  const refused = linkOnTheWay(dir, root) ?? pathsProblem(dir, root, dirs, Object.keys(files));
  if (refused) return refused;
  const failed = writeAll(dir, root, dirs, files);
  return failed ?? { files: Object.keys(files).map((f) => join(dir, f)), site };
}

/** Why init may not write there: a directory that is a link or no directory, a file that exists. */
function pathsProblem(dir: string, root: string, dirs: readonly string[], files: readonly string[]): InitResult | undefined {
  for (const d of dirs) {
    const kind = kindAt(join(root, d));
    const shown = d === '' ? dir : join(dir, d);
    if (kind.startsWith('error:')) return { error: `cannot look at ${shown}: ${kind.slice(6)}`, io: true };
    if (kind === 'link') return { error: `${shown} is a symbolic link; harvgen init never writes through a link (pick a plain directory)` };
    if (kind === 'other') return { error: `${shown} exists and is not a directory; harvgen init needs a directory there` };
  }
  for (const rel of files) {
    const kind = kindAt(join(root, rel));
    if (kind.startsWith('error:')) return { error: `cannot look at ${join(dir, rel)}: ${kind.slice(6)}`, io: true };
    if (kind === 'link')
      return {
        error: `${join(dir, rel)} is a symbolic link; harvgen init never overwrites or writes through a link (pick an empty directory)`,
      };
    if (kind !== 'none') return { error: `${join(dir, rel)} exists; harvgen init never overwrites (pick an empty directory)` };
  }
  return undefined;
}

/** Create the directories and write the files, removing what was created again if a write fails. */
function writeAll(dir: string, root: string, dirs: readonly string[], files: Readonly<Record<string, string>>): InitResult | undefined {
  const created: { path: string; dir: boolean }[] = [];
  let current = root;
  try {
    for (const d of dirs) {
      current = join(root, d);
      created.push(...createDir(current, d === ''));
    }
    for (const [rel, text] of Object.entries(files)) {
      current = join(root, rel);
      writeNew(current, text, rel.startsWith('secrets/') ? 0o600 : 0o644, created);
    }
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    let left = 0;
    for (const c of created.reverse()) {
      try {
        if (c.dir) rmdirSync(c.path);
        else unlinkSync(c.path);
      } catch {
        left++; // someone else's file appeared in it: leave it
      }
    }
    const failed = relative(root, current);
    return {
      error: `cannot create ${failed === '' ? dir : join(dir, failed)}: ${err.code ?? err.message}; ${left === 0 ? 'nothing was left behind' : `${left} of the paths it created could not be removed`}`,
      io: true,
    };
  }
}

/** A directory made (the site directory with the missing ones above it, outermost first), or none when it exists. */
function createDir(path: string, withParents: boolean): { path: string; dir: true }[] {
  if (kindAt(path) === 'dir') return [];
  if (!withParents) {
    mkdirSync(path);
    return [{ path, dir: true }];
  }
  const first = mkdirSync(path, { recursive: true });
  const made: { path: string; dir: true }[] = [];
  if (first !== undefined)
    for (let p = path; ; p = resolve(p, '..')) {
      made.push({ path: p, dir: true });
      if (p === first || p === resolve(p, '..')) break;
    }
  return made.reverse();
}

/**
 * A new file (O_EXCL: never over an existing file, never through a link, even a dangling one),
 * added to `created` as soon as it exists, so that a failed write removes it.
 */
function writeNew(path: string, text: string, mode: number, created: { path: string; dir: boolean }[]): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  created.push({ path, dir: false });
  try {
    const bytes = Buffer.from(text);
    for (let n = 0; n < bytes.length;) n += writeSync(fd, bytes, n, bytes.length - n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a site beside `root` (a directory next to it with a site.yaml) is served at `host` on
 * port 80 at the root path, where the new site would be: `boot.server: http://<host>` or
 * `http://<host>:80/`. Only read: a sibling that cannot be read or parsed is not one.
 */
async function servedBeside(root: string, host: string): Promise<boolean> {
  // Loaded here: this module loads with every command (--version, an up-to-date build), yaml only for init.
  const { parse } = await import('yaml');
  const parent = dirname(root);
  // The sites beside it, as `harvgen check` with no directory finds them in its sites/.
  const beside = (await discoverSites(dirname(parent), basename(parent))).map((d) => resolve(dirname(parent), d)).filter((d) => d !== root);
  const here = new RegExp(`^http://${host.replace(/\./g, '\\.')}(:80)?/?$`);
  return beside.some((dir) => {
    try {
      const file = join(dir, 'site.yaml');
      if (statSync(file).size > 1024 * 1024) return false;
      // `error`: a neighbour's YAML warning is not this command's to print (yaml would emit a
      // process warning), and a neighbour that does not parse throws: it is none.
      const server = (parse(readFileSync(file, 'utf8'), { logLevel: 'error' }) as { boot?: { server?: unknown } } | null)?.boot?.server;
      return typeof server === 'string' && here.test(server);
    } catch {
      return false;
    }
  });
}

/** What the site's templates depend on. */
interface SiteKind {
  readonly lab: boolean;
  readonly release: string;
  /** The path the site is served under (`/<site>`) when other sites are beside it; else none. */
  readonly prefix?: string;
}

/** The addresses of a new site: libvirt's default NAT network for a lab, a placeholder network for bare metal. */
const net = (lab: boolean) => (lab ? '192.168.122' : '192.168.10');

function siteYaml(schemaLine: string, site: string, { lab, release, prefix = '' }: SiteKind): string {
  const n = net(lab);
  const served = prefix
    ? '   # where nginx serves the built tree: under its own path, beside the other sites (docs/deploy.md, "Several sites on one boot server")'
    : '      # where nginx serves the built tree';
  return `${schemaLine}
#
# A Harvester site for harvgen${lab ? ": a lab of libvirt VMs on the host's default NAT network" : ': bare-metal servers'}.
# Check it with \`harvgen check <this dir>\`, build it with \`harvgen build <this dir>\`;
# \`harvgen help settings\` explains every key (your editor completes them through the line above).
site: ${site}
description: New Harvester ${lab ? 'lab' : 'site'}

harvester:
  version: ${release}
  # Where the release files are served (artifacts/fetch.sh in the built tree downloads them).
  artifacts: http://${n}.1${prefix}/artifacts/${release}

boot:
  server: http://${n}.1${prefix}${served}
  firmware: uefi
${lab ? "  skipchecks: true                   # lab VMs are smaller than Harvester's hardware minimums\n" : ''}
network:
  cidr: ${n}.0/24
  gateway: ${n}.1
  dns: [${n}.1]
  dhcp_range: ${n}.150-${n}.250   # nodes and the VIP stay outside it

cluster:
  vip: ${n}.120
  # Secrets stay out of the YAML: files in secrets/ (git-ignored) or { env: NAME }.
  token: { file: secrets/token }
  password: { file: secrets/password }   # the password of the rancher user; written as a hash

defaults:
  # install-once: a node whose disk holds an installed Harvester boots it; only a blank disk
  # installs. With the default (install) a node that network-boots first reinstalls on every
  # boot. To reinstall one node on purpose, raise its \`reinstall:\` (\`harvgen help day-2\`, "Reinstall a node").
  state: install-once
  install:
${lab ? "    device: /dev/vda                 # the lab VMs' virtio disk" : `    device: ${PLACEHOLDER_DISK}   # a persistent name: ls -l /dev/disk/by-id/`}
${lab ? "\n# The libvirt network and VMs (libvirt/ in the built tree): names default to the site's.\nlab: {}\n" : ''}`;
}

function nodeYaml(schemaLine: string, i: number, lab: boolean): string {
  const hex = i.toString(16).padStart(2, '0');
  const first = i === 1;
  return `${schemaLine}
# ${first ? 'The node that creates the cluster (the first node does unless one says role: create).' : 'A node that joins the cluster node-1 creates.'}
# Its hostname is the file name: node-${i}.
${lab ? `mac: 52:54:00:00:00:${hex}` : `mac: ${placeholderMac(hex)}              # REPLACE with the MAC of the server's boot NIC`}
ip: ${net(lab)}.${10 + i}
${first ? 'role: create\n' : ''}`;
}
