// harvgen's own version, from the package.json of the installed package (src/ and dist/ are both
// one level below it, so this file is two).
import { readFileSync } from 'node:fs';

let version: string | undefined;

/** harvgen's version (`package.json`), read once. */
export function harvgenVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
