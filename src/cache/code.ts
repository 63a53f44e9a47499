// The identity of the running harvgen, which an up-to-date record must match (src/cache/index.ts).
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundled, codeDir, packageRoot } from '../util/package-root.ts';

let codeIdentity: string | undefined;

/**
 * The libraries whose behaviour reaches the output or the diagnostics (parsing, templates, the
 * compiled validators' runtime): an update of one within its version range changes the identity.
 */
const LIBRARIES = ['yaml', 'eta', 'ajv'];

/**
 * Identity of the running harvgen: the path, size, mtime and inode of its package.json (its
 * version), code (not its type declarations; in the CLI's bundle, the bundle's files and the
 * compiled validators), templates and schemas, and of the package.json of each library in LIBRARIES;
 * and the versions of Node.js and its zlib.
 */
export function codeStamp(): string {
  if (codeIdentity !== undefined) return codeIdentity;
  let listing = '';
  for (const f of codeFiles()) {
    const st = lstatSync(f);
    listing += `${f}\0${st.size}\0${st.mtimeMs}\0${st.ino}\n`;
  }
  const hash = createHash('sha256').update(listing);
  // The runtime too: zlib's output (gzip, in published artifacts) may change with Node's.
  hash.update(`node ${process.version} zlib ${process.versions.zlib ?? ''}\n`);
  codeIdentity = hash.digest('hex');
  return codeIdentity;
}

let contentIdentity: string | undefined;

/**
 * Identity of the running harvgen by content, the same on every machine that installed the same
 * harvgen: the SHA-256 of each file codeStamp stamps (by its path inside the package or the
 * library) and the versions of Node.js and its zlib. What publish's fleet state records (a CI
 * runner that starts empty has other stamps); read once per process, about 10 ms.
 */
export function codeContent(): string {
  if (contentIdentity !== undefined) return contentIdentity;
  const pkg = packageRoot();
  const hash = createHash('sha256');
  for (const f of codeFiles()) {
    const name = f.startsWith(`${pkg}/`) ? f.slice(pkg.length + 1) : f.slice(f.lastIndexOf('/node_modules/') + 1);
    hash.update(`${name}\0${createHash('sha256').update(readFileSync(f)).digest('hex')}\n`);
  }
  hash.update(`node ${process.version} zlib ${process.versions.zlib ?? ''}\n`);
  contentIdentity = hash.digest('hex');
  return contentIdentity;
}

/** The files whose stamps (codeStamp) or contents (codeContent) are harvgen's identity, sorted; the libraries' package.json last. */
function codeFiles(): string[] {
  const pkg = packageRoot();
  // Type declarations (.d.ts) change nothing a run does: not stamped (half of dist/'s files).
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && !/\.d\.c?ts$/.test(e.name))
      .map((e) => join(e.parentPath, e.name));
  const require = createRequire(import.meta.url);
  const libraries = LIBRARIES.map((name) => require.resolve(`${name}/package.json`));
  // The CLI's bundle runs its own files and the compiled validators (required at run time), not
  // the rest of tsc's output (the library's modules): a tenth of dist/'s files.
  const code = bundled
    ? [
        join(pkg, 'dist/cli.js'),
        join(pkg, 'dist/cli-worker.js'),
        ...files(join(pkg, 'dist/chunks')),
        ...files(join(pkg, 'dist/validate/compiled')),
        ...files(join(pkg, 'dist/harvester/compiled')),
      ]
    : files(codeDir());
  return [...[join(pkg, 'package.json'), ...code, ...files(join(pkg, 'templates')), ...files(join(pkg, 'schema'))].sort(), ...libraries];
}
