// Layers: repo-wide defaults (`sites/_defaults.yaml`) and hardware profiles
// (`sites/_profiles/<name>.yaml`). Their shape is checked against schema/layer.schema.json
// (positions in their own files), and every `profile:` reference must name a profile, without
// a cycle through profiles that name profiles.
import type { Diagnostic } from '../diagnostics/types.ts';
import { PROFILE_LAYER, REPO_LAYER, type InventoryPath, type Layers, type Locator } from '../load/index.ts';
import type { SiteInput } from '../types/site-input.ts';
import { closest } from '../util/suggest.ts';
import { formatPath } from '../util/paths.ts';
import { validateShape } from './schema.ts';

/** Shape of every layer file: diagnostics positioned in that file. */
export function validateLayers(layers: Layers, locate: Locator): Diagnostic[] {
  const under = (prefix: InventoryPath): Locator =>
    Object.assign((p: InventoryPath, t?: 'value' | 'key') => locate([...prefix, ...p], t), {
      has: (p: InventoryPath) => locate.has([...prefix, ...p]),
    });
  const out: Diagnostic[] = [];
  if (layers.repo) out.push(...validateShape(layers.repo, under([REPO_LAYER]), 'layer'));
  for (const [name, value] of Object.entries(layers.profiles)) out.push(...validateShape(value, under([PROFILE_LAYER, name]), 'layer'));
  return out;
}

/** Every `profile:` reference names an existing profile, and no chain of profiles loops. */
export function checkProfileRefs(input: SiteInput, layers: Layers, locate: Locator): Diagnostic[] {
  const names = Object.keys(layers.profiles).sort();
  const out: Diagnostic[] = [];
  const at = (path: InventoryPath) => ({ path: formatPath(path), ...(locate(path) ?? {}) });
  const refs: [InventoryPath, unknown][] = [
    ...(input.nodes ?? []).map((n, i): [InventoryPath, unknown] => [['nodes', i, 'profile'], n.profile]),
    [['defaults', 'profile'], input.defaults?.profile],
    [[REPO_LAYER, 'profile'], layers.repo?.profile],
    ...Object.entries(layers.profiles).map(([name, p]): [InventoryPath, unknown] => [[PROFILE_LAYER, name, 'profile'], p.profile]),
  ];
  for (const [path, ref] of refs) {
    if (typeof ref !== 'string' || ref in layers.profiles) continue;
    const guess = closest(ref, names);
    out.push({
      code: 'NODE_PROFILE_UNKNOWN',
      severity: 'error',
      message: `profile "${ref}" does not exist${guess ? `; did you mean "${guess}"?` : ''}`,
      hint:
        names.length > 0
          ? `Profiles are the files in sites/_profiles/: ${names.join(', ')}.`
          : 'Create sites/_profiles/<name>.yaml next to the site directories.',
      ...at(path),
    });
  }
  // A cycle: following `profile:` from a profile comes back to it.
  const reported = new Set<string>();
  for (const start of names) {
    const seen: string[] = [];
    for (let p: string | undefined = start; p !== undefined && p in layers.profiles;) {
      if (seen.includes(p)) {
        const loop = [...seen.slice(seen.indexOf(p)), p];
        const key = [...loop].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          const last = seen[seen.length - 1]!;
          out.push({
            code: 'NODE_PROFILE_CYCLE',
            severity: 'error',
            message: `profiles name each other in a loop: ${loop.join(' -> ')}`,
            hint: 'A profile may build on another (`profile:`), but the chain must end.',
            ...at([PROFILE_LAYER, last, 'profile']),
          });
        }
        break;
      }
      seen.push(p);
      const next: unknown = layers.profiles[p]!.profile;
      p = typeof next === 'string' ? next : undefined;
    }
  }
  return out;
}
