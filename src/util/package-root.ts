// Where harvgen's own files are (package.json, templates/, schema/, docs/, dist/): the package's
// root, found from this module's location. The same answer whether this module runs as the
// sources (src/util/, through tsx), as tsc's output (dist/util/) or inside the CLI's bundle
// (dist/cli.js, where every module shares the bundle's location): a path relative to
// `import.meta.url` would differ between those, this does not.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;
let manifest: { readonly name?: unknown; readonly version?: unknown } | undefined;

/** The directory holding harvgen's package.json: the nearest one above this module that is harvgen's and holds templates/. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'templates')) && isHarvgen(join(dir, 'package.json'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`harvgen's package root (its package.json and templates/) is not above ${here}`);
  }
}

/** Whether `file` is harvgen's package.json (not a project that happens to have templates/ too); kept when it is. */
function isHarvgen(file: string): boolean {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as NonNullable<typeof manifest>;
    if (m.name !== 'harvgen') return false;
    manifest = m;
    return true;
  } catch {
    return false;
  }
}

/** harvgen's package.json, as the package root was found by (read once). */
export function packageManifest(): { readonly name?: unknown; readonly version?: unknown } {
  packageRoot();
  return manifest!;
}

/** A file or directory of the package (`packageFile('schema', 'site.schema.json')`). */
export function packageFile(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

// Defined (true) by scripts/bundle.mjs in the CLI's bundle; undefined elsewhere.
declare const __HARVGEN_BUNDLED__: boolean | undefined;

/** Whether this code runs in the CLI's bundle (dist/cli.js, dist/chunks/, dist/cli-worker.js). */
export const bundled = typeof __HARVGEN_BUNDLED__ !== 'undefined' && __HARVGEN_BUNDLED__ === true;

/** Whether this code runs from the sources (src/, through tsx: the tests) rather than dist/. */
export const fromSource = import.meta.url.endsWith('.ts');

/** The directory of the running code: src/ from the sources, dist/ otherwise. */
export function codeDir(): string {
  return packageFile(fromSource ? 'src' : 'dist');
}
