// Every config format a node can be served, in the order the nginx config lists their locations.
import type { ResolvedNode } from '../../model/index.ts';
import { HARVESTER_CONFIG } from './harvester.ts';
import { NOCLOUD_SEED } from './nocloud.ts';
import type { ConfigFormat } from './types.ts';

export type { ConfigFormat } from './types.ts';
export { HARVESTER_CONFIG } from './harvester.ts';
export { NOCLOUD_SEED } from './nocloud.ts';

/** The declared formats. */
export const CONFIG_FORMATS: readonly ConfigFormat[] = [HARVESTER_CONFIG, NOCLOUD_SEED];

/** The formats `node` is served, each with its owners (hostname or boot MACs). */
export function servedConfigs(node: ResolvedNode): { readonly format: ConfigFormat; readonly owners: readonly string[] }[] {
  return CONFIG_FORMATS.map((format) => ({ format, owners: format.ownersOf(node) })).filter((c) => c.owners.length > 0);
}

/** The format whose directory holds `path` (relative to the tree), if any. */
export function formatOfPath(path: string): ConfigFormat | undefined {
  for (const [format, prefix] of PREFIXES) if (path.startsWith(prefix)) return format;
  return undefined;
}

/** Each format with its directory's prefix, made once (asked for every served path of a site). */
const PREFIXES: readonly (readonly [ConfigFormat, string])[] = CONFIG_FORMATS.map((f) => [f, `${f.dir}/`]);
