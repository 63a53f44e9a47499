// Where an output root may not be: the whole file system, a home directory, a system
// directory, or anywhere that mixes generated files with an inventory (the site directory
// itself, inside it, or above it). Compared as real paths, so links do not hide a match.
import {
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { LAYOUT } from '../derive/layout.ts';
import { openNoFollow } from '../util/read-fd.ts';
import type { SecretMode } from '../types/secret-mode.ts';

const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var',
  '/tmp',
  '/root',
  '/home',
];

/** Real path of `p`, resolving the part that exists (the rest is appended as written). */
export function real(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(real(parent), basename(abs));
  }
}

const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** Why `outRoot` is not a safe output root for these site directories, or undefined. */
export function unsafeOutDir(outRoot: string, siteDirs: readonly string[]): string | undefined {
  const out = real(outRoot);
  if (out === sep) return 'it is the root of the file system';
  const home = real(homedir());
  if (out === home) return 'it is your home directory';
  if (dirname(out) === '/home') return 'it is a home directory';
  if (SYSTEM_DIRS.includes(out)) return `it is the system directory ${out}`;
  for (const d of siteDirs) {
    const site = real(d);
    if (within(out, site))
      return `it is ${out === site ? 'the' : 'inside the'} site directory ${d}: generated files would mix with the inventory`;
    if (within(site, out)) return `it holds the site directory ${d}: a build could remove or overwrite inventory files`;
  }
  return undefined;
}

/**
 * The `.gitignore` at the root of a deploy tree (`build --deploy`): the tree holds the secrets,
 * so git ignores all of it, itself included. Its exact text marks the root as a deploy tree.
 */
export const DEPLOY_GITIGNORE =
  '# harvgen deploy tree (`harvgen build --deploy`): it holds the secrets. Never commit it;\n# copy it to the boot server (rsync).\n*\n';

/** The bytes of a regular file (never through a link, never waiting on a FIFO swapped in), or undefined. */
function regularBytes(p: string): Buffer | undefined {
  const fd = openNoFollow(p);
  if (fd === undefined) return undefined;
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The text of a regular file (never through a link), or undefined. */
function regularText(p: string): string | undefined {
  return regularBytes(p)?.toString('utf8');
}

/** How every manifest.json harvgen writes begins, up to the tree it holds (src/render/manifest.ts). */
const MANIFEST_HEAD =
  /^\{\n  "generator": "harvgen",\n  "manifest_version": \d+,\n  "site": "[^"\\]*",\n  "secrets": "(markers|filled)",\n/;

const CLOSING = Buffer.from('}\n');
const SECRETS_KEY = Buffer.from('"secrets"');

/** Where manifestKind reads (made once). */
let scratch: Buffer | undefined;

/**
 * The `secrets` of the manifest.json at `p` (a regular file, never through a link) as harvgen
 * writes it, read from its first lines: a 10,000-node site's manifest.json is 16 MB, and parsing
 * it whole to read one field took most of a no-op build. Only when the text says `"secrets"`
 * nowhere else and ends as a JSON object does; any other text (an older harvgen's, an edited one)
 * gives undefined and is parsed whole, as before. Read through one reused 1 MiB buffer: a fresh
 * 16 MB buffer for each read cost more in page faults than the read itself.
 */
export function manifestKind(p: string): string | undefined {
  // Never a FIFO or a device, which an open could wait on forever (opened non-blocking, then fstat).
  const fd = openNoFollow(p);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size < CLOSING.length) return undefined;
    const buf = (scratch ??= Buffer.allocUnsafe(1 << 20));
    let got = readSync(fd, buf, 0, buf.length, 0);
    // This file's bytes only: past `got` the buffer still holds the last file read.
    const m = MANIFEST_HEAD.exec(buf.toString('utf8', 0, Math.min(got, 1024)));
    if (!m) return undefined;
    // `"secrets"` nowhere after the head: searched chunk by chunk, each chunk starting with the
    // last bytes of the one before (a key split between two reads is found).
    const keep = SECRETS_KEY.length - 1;
    let from = Buffer.byteLength(m[0]);
    let at = 0; // file offset of buf[0]
    for (;;) {
      if (buf.subarray(0, got).indexOf(SECRETS_KEY, from) !== -1) return undefined;
      if (at + got >= st.size) break;
      const carry = Math.min(keep, got);
      buf.copy(buf, 0, got - carry, got);
      at += got - carry;
      const n = readSync(fd, buf, carry, buf.length - carry, at + carry);
      if (n === 0) return undefined; // shorter than it was: changed while read
      got = carry + n;
      from = 0;
    }
    if (at + got !== st.size || !buf.subarray(got - CLOSING.length, got).equals(CLOSING)) return undefined;
    return m[1];
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The nearest directory at or above `p` holding `.git`, or undefined. */
function gitWorkTree(p: string): string | undefined {
  for (let d = p; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * Why a build of this kind may not use `root` (a real path), or undefined: the committed tree
 * (`markers`) and the deploy tree (`filled`) never share a directory, and a deploy tree is never
 * written where git could take it in (a directory of a repository that harvgen did not mark).
 */
export function treeKindProblem(
  root: string,
  secrets: SecretMode,
  siteNames: readonly string[],
): { problem: string; hint: string } | undefined {
  const ignorePath = join(root, '.gitignore');
  const ignore = regularText(ignorePath);
  const deployTree = ignore === DEPLOY_GITIGNORE;
  const elsewhere =
    'Write the deploy tree into a directory of its own: `--out deploy` (the default with --deploy) or the served directory.';
  if (ignore === undefined && lstatSync(ignorePath, { throwIfNoEntry: false }) !== undefined) {
    return {
      problem: 'its .gitignore is not a regular file (a link or a directory), so harvgen cannot tell what the directory is',
      hint: 'Remove it, or choose another output directory.',
    };
  }
  /** What tree a site directory of `root` holds, by its manifest (undefined: none, or an older harvgen's). */
  const kindOf = (site: string): unknown => {
    const path = join(root, site, LAYOUT.manifest);
    const head = manifestKind(path);
    if (head !== undefined) return head;
    const manifest = regularBytes(path);
    if (manifest === undefined) return undefined;
    try {
      return (JSON.parse(manifest.toString('utf8')) as { secrets?: unknown }).secrets;
    } catch {
      return undefined;
    }
  };
  if (secrets === 'markers') {
    const hint = 'Build the committed tree into its own directory (`--out out`), or add `--deploy` to update the deploy tree.';
    if (deployTree)
      return { problem: 'it is a deploy tree (written by `harvgen build --deploy`: secrets filled in, ignored by git)', hint };
    for (const site of siteNames) {
      // A deploy tree copied to the served directory (rsync of one site) has no root marker: its manifest says what it is.
      if (kindOf(site) === 'filled') {
        return { problem: `${join(root, site)} holds the deploy tree of site ${site} (secrets filled in), e.g. a served copy`, hint };
      }
      if (regularText(join(root, site, '.gitignore')) === DEPLOY_GITIGNORE) {
        return { problem: `${join(root, site)} is the root of a deploy tree`, hint };
      }
    }
    return undefined;
  }
  if (ignore !== undefined && !deployTree) {
    return { problem: 'it holds a .gitignore that harvgen did not write, so it is not a deploy tree', hint: elsewhere };
  }
  for (const site of siteNames) {
    if (kindOf(site) === 'markers') {
      return { problem: `${join(root, site)} holds the committed tree of site ${site} (secrets as markers)`, hint: elsewhere };
    }
  }
  const repo = gitWorkTree(root);
  if (!deployTree && repo !== undefined && existsSync(root) && readdirSync(root).length > 0) {
    return {
      problem: `it is inside the git repository ${repo}, is not empty and is not a deploy tree harvgen made, so the secrets could be committed`,
      hint: `${elsewhere} A new or empty directory becomes a deploy tree with a .gitignore of its own.`,
    };
  }
  return undefined;
}

/** Whether `root` is marked as a deploy tree (its .gitignore is harvgen's, a regular file). */
export function isDeployTree(root: string): boolean {
  return regularText(join(root, '.gitignore')) === DEPLOY_GITIGNORE;
}

/** Mark `root` as a deploy tree (created exclusively: never written through a link). */
export function markDeployTree(root: string): void {
  mkdirSync(root, { recursive: true });
  if (!isDeployTree(root)) writeFileSync(join(root, '.gitignore'), DEPLOY_GITIGNORE, { flag: 'wx' });
}
