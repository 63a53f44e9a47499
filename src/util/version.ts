// harvgen's own version, from the package.json of the installed package.
import { packageManifest } from './package-root.ts';

/** harvgen's version (`package.json`, read once with the package root). */
export function harvgenVersion(): string {
  return String(packageManifest().version);
}
