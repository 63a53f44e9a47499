// harvgen's own version, from the package.json of the installed package.
import { readFileSync } from 'node:fs';
import { packageFile } from './package-root.ts';

let version: string | undefined;

/** harvgen's version (`package.json`), read once. */
export function harvgenVersion(): string {
  version ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
