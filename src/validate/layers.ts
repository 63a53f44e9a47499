// Layers: repo-wide defaults (`sites/_defaults.yaml`) and hardware profiles
// (`sites/_profiles/<name>.yaml`). Their shape is checked against schema/layer.schema.json
// (positions in their own files), and every `profile:` reference must name a profile, without
// a cycle through profiles that name profiles.
import type { Diagnostic } from '../diagnostics/types.ts';
import { type Locator } from '../load/index.ts';
import type { SiteInput } from '../types/site-input.ts';
import { closest } from '../util/suggest.ts';
import { formatPath, type InventoryPath } from '../util/paths.ts';
import { validateShape } from './schema.ts';
import { type Layers, MEASURED_LAYER, PROFILE_LAYER, REPO_LAYER } from '../types/layers.ts';

/**
 * Profiles one chain may hold (a node's profile and the profiles it builds on). A hardware
 * profile building on a vendor's, on a site-wide base, is three; 16 leaves room and keeps the
 * layers a node is resolved from (three chains and three layers) few.
 */
export const MAX_PROFILE_CHAIN = 16;

/** Unknown profile names that get a "did you mean", and the profile names a hint lists. */
const MAX_SUGGESTIONS = 20;

/** Shape of every layer file: diagnostics positioned in that file. */
export function validateLayers(layers: Layers, locate: Locator): Diagnostic[] {
  const under = (prefix: InventoryPath): Locator =>
    Object.assign((p: InventoryPath, t?: 'value' | 'key') => locate([...prefix, ...p], t), {
      has: (p: InventoryPath) => locate.has([...prefix, ...p]),
    });
  const out: Diagnostic[] = [];
  if (layers.repo) out.push(...validateShape(layers.repo, under([REPO_LAYER]), 'layer'));
  for (const [name, value] of Object.entries(layers.profiles)) out.push(...validateShape(value, under([PROFILE_LAYER, name]), 'layer'));
  for (const [host, value] of Object.entries(layers.measured ?? {}))
    out.push(...validateShape(value, under([MEASURED_LAYER, host]), 'facts'));
  return out;
}

/** Where a diagnostic about an inventory path goes: the path and its file position. */
type At = (path: InventoryPath) => Pick<Diagnostic, 'path' | 'file' | 'line' | 'col'>;

/** Every `profile:` reference names an existing profile, and no chain of profiles loops or runs longer than MAX_PROFILE_CHAIN. */
export function checkProfileRefs(input: SiteInput, layers: Layers, locate: Locator): Diagnostic[] {
  const names = Object.keys(layers.profiles).sort();
  const at: At = (path) => ({ path: formatPath(path), ...(locate(path) ?? {}) });
  const next = (p: string): string | undefined => {
    const n: unknown = layers.profiles[p]!.profile;
    return typeof n === 'string' && n in layers.profiles ? n : undefined;
  };
  const out = unknownProfiles(input, layers, { names, at });
  const { length, cycles } = chainLengths(names, next, at);
  out.push(...cycles, ...tooLongChains(names, next, { length, at }));
  return out;
}

/** Every `profile:` (of a node, `defaults:`, the repo defaults or a profile) that names no profile, with a "did you mean". */
function unknownProfiles(input: SiteInput, layers: Layers, { names, at }: { names: readonly string[]; at: At }): Diagnostic[] {
  const out: Diagnostic[] = [];
  const refs: [InventoryPath, unknown][] = [
    ...(input.nodes ?? []).map((n, i): [InventoryPath, unknown] => [['nodes', i, 'profile'], n.profile]),
    [['defaults', 'profile'], input.defaults?.profile],
    [[REPO_LAYER, 'profile'], layers.repo?.profile],
    ...Object.entries(layers.profiles).map(([name, p]): [InventoryPath, unknown] => [[PROFILE_LAYER, name, 'profile'], p.profile]),
  ];
  // A suggestion compares a name with every profile: for the first few unknown names only, so
  // that thousands of them cost no more than the rest of the check.
  let suggestions = 0;
  for (const [path, ref] of refs) {
    if (typeof ref !== 'string' || ref in layers.profiles) continue;
    const guess = suggestions++ < MAX_SUGGESTIONS ? closest(ref, names) : undefined;
    out.push({
      code: 'NODE_PROFILE_UNKNOWN',
      severity: 'error',
      message: `profile "${ref}" does not exist${guess ? `; did you mean "${guess}"?` : ''}`,
      hint:
        names.length > 0
          ? `Profiles are the files in sites/_profiles/: ${names.length <= MAX_SUGGESTIONS ? names.join(', ') : `${names.slice(0, MAX_SUGGESTIONS).join(', ')}, ... (${names.length} in all)`}.`
          : 'Create sites/_profiles/<name>.yaml next to the site directories.',
      ...at(path),
    });
  }
  return out;
}

/**
 * Profiles in the chain from each profile on (itself included; Infinity when it ends in a loop),
 * and each loop reported once. Following `profile:` from each profile, once: every profile has at
 * most one next, so each is walked once (linear in the number of profiles). A walk that comes
 * back to a profile of its own path is a cycle; a walk that meets a finished profile adds its
 * known length.
 */
function chainLengths(
  names: readonly string[],
  next: (p: string) => string | undefined,
  at: At,
): { length: Map<string, number>; cycles: Diagnostic[] } {
  const length = new Map<string, number>();
  const cycles: Diagnostic[] = [];
  for (const start of names) {
    if (length.has(start)) continue;
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let p: string | undefined = start;
    while (p !== undefined && !length.has(p) && !onPath.has(p)) {
      onPath.set(p, path.length);
      path.push(p);
      p = next(p);
    }
    let tail = p === undefined ? 0 : (length.get(p) ?? Infinity);
    if (p !== undefined && onPath.has(p)) {
      // Reported once, from the first of its profiles by name, at that profile's `profile:`.
      const members = path.slice(onPath.get(p));
      const first = members.reduce((a, b) => (b < a ? b : a));
      const from = members.indexOf(first);
      const loop = [...members.slice(from), ...members.slice(0, from), first];
      cycles.push({
        code: 'NODE_PROFILE_CYCLE',
        severity: 'error',
        message: `profiles name each other in a loop: ${loop.join(' -> ')}`,
        hint: 'A profile may build on another (`profile:`), but the chain must end.',
        ...at([PROFILE_LAYER, first, 'profile']),
      });
    }
    for (let i = path.length - 1; i >= 0; i--) length.set(path[i]!, (tail = tail + 1));
  }
  return { length, cycles };
}

/**
 * Too long a chain: reported at the `profile:` that adds the level past the limit, counted from
 * where chains start (a profile no other profile names; a node, `defaults:` or the repo defaults
 * may name a profile further down, which makes a shorter chain of the same profiles).
 */
function tooLongChains(
  names: readonly string[],
  next: (p: string) => string | undefined,
  { length, at }: { length: ReadonlyMap<string, number>; at: At },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const named = new Set(names.map(next).filter((n) => n !== undefined));
  const reportedAt = new Set<string>();
  for (const head of names) {
    if (named.has(head) || length.get(head)! <= MAX_PROFILE_CHAIN || length.get(head) === Infinity) continue;
    const chain = [head];
    while (chain.length <= MAX_PROFILE_CHAIN) chain.push(next(chain[chain.length - 1]!)!);
    const last = chain[MAX_PROFILE_CHAIN - 1]!;
    if (reportedAt.has(last)) continue;
    reportedAt.add(last);
    const total = length.get(head)!;
    const shown =
      total <= MAX_PROFILE_CHAIN + 2
        ? chain.join(' -> ')
        : `${chain.slice(0, 3).join(' -> ')} -> ... -> ${last} -> ${chain[MAX_PROFILE_CHAIN]}`;
    out.push({
      code: 'NODE_PROFILE_CHAIN_TOO_LONG',
      severity: 'error',
      message: `this \`profile:\` makes a chain of more than ${MAX_PROFILE_CHAIN} profiles: ${shown}${total > MAX_PROFILE_CHAIN + 1 ? ` (${total} in all)` : ''}`,
      hint: `A profile may build on another, at most ${MAX_PROFILE_CHAIN} deep: merge some of these profiles into one.`,
      ...at([PROFILE_LAYER, last, 'profile']),
    });
  }
  return out;
}
