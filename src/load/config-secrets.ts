// The secrets written under `config:` (a node's, `defaults:`'s, a shared layer's): the strings at
// the installer config keys that hold one (`token`, `os.password`), with where each stands.
import type { InventoryPath } from '../util/paths.ts';

/** The installer config keys under `config:` that hold a secret. */
const CONFIG_SECRET_KEYS: readonly (readonly string[])[] = [['token'], ['os', 'password']];

/** The strings at the secret keys of one `config:` block (a shared layer's, for masking). */
export function configBlockSecrets(block: unknown): string[] {
  return configSecrets({ defaults: { config: block } }).map((f) => f.value);
}

/** A string found at a secret key of a `config:` block: its path, its value, the object that holds it and the key. */
export interface ConfigSecret {
  readonly path: InventoryPath;
  readonly value: string;
  readonly holder: Record<string, unknown>;
  readonly key: string;
}

/** Every string at a secret key of a `config:` block of the inventory (defaults, nodes). */
export function configSecrets(input: Record<string, unknown>): ConfigSecret[] {
  const found: ConfigSecret[] = [];
  blockSecrets(['defaults', 'config'], (input.defaults as Record<string, unknown> | undefined)?.config, found);
  const nodes = input.nodes;
  if (!Array.isArray(nodes)) return found;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i] as Record<string, unknown> | null;
    // A frozen node (watch's parse cache) holds no secret in its `config:` for good once found so.
    if (n !== null && typeof n === 'object' && noConfigSecret.has(n)) continue;
    const before = found.length;
    blockSecrets(['nodes', i, 'config'], n?.config, found);
    if (found.length === before && n !== null && typeof n === 'object' && Object.isFrozen(n)) noConfigSecret.add(n);
  }
  return found;
}

/** Frozen node values whose `config:` holds no string at a secret key (checked once: they cannot change). */
const noConfigSecret = new WeakSet<object>();

/** The strings at the secret keys of one `config:` block, at `base`, added to `found`. */
function blockSecrets(base: InventoryPath, block: unknown, found: ConfigSecret[]): void {
  for (const keys of CONFIG_SECRET_KEYS) {
    let holder: unknown = block;
    for (let k = 0; k < keys.length - 1; k++)
      holder =
        holder !== null && typeof holder === 'object' && !Array.isArray(holder) ? (holder as Record<string, unknown>)[keys[k]!] : undefined;
    if (holder === null || typeof holder !== 'object' || Array.isArray(holder)) continue;
    const key = keys[keys.length - 1]!;
    const v = Object.hasOwn(holder, key) ? (holder as Record<string, unknown>)[key] : undefined;
    if (typeof v === 'string' && v !== '')
      found.push({ path: [...base, ...keys], value: v, holder: holder as Record<string, unknown>, key });
  }
}
