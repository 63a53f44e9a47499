// NODE_SETTING_IGNORED: a setting that no node of the site reads is reported where it is written,
// never dropped in silence (a `kernel_args` on an OS profile node, `boot.console` in a site
// without Harvester nodes).
import type { SiteInput } from '../types/site-input.ts';

/** The most nodes a warning names (the others are counted). */
const MAX_NAMED = 10;
import type { IgnoredSetting } from './kinds/index.ts';
import type { ModelProblem, NodeKind, SiteModel } from './types.ts';
import { PROFILE_LAYER, REPO_LAYER } from '../types/layers.ts';

const KIND_NAMES: Readonly<Record<NodeKind, string>> = {
  harvester: 'a Harvester node',
  os: 'an OS profile node',
  iscsi: 'a diskless iSCSI node',
};

/** Every kind of node (the `--json` schema's `boot` enum is checked against it). */
export const NODE_KINDS = Object.keys(KIND_NAMES) as readonly NodeKind[];

/** Site settings only the Harvester installer's command line reads, and what to do instead. */
const INSTALLER_BOOT_SETTINGS: Readonly<Record<string, string>> = {
  kernel_args: "an OS profile's kernel arguments are its `params`; an iSCSI node's are its target's",
  console: "an OS profile's console is a `console=` in its `params`; an iSCSI node's is its target's",
  skipchecks: "the installer's checks are the Harvester installer's only",
  dhcp_retry: "the installer's initrd is the Harvester installer's only",
};

/**
 * The warnings for settings no node reads: a node's own setting its kind ignores, a setting of a
 * shared layer that every node taking it ignores, and the installer's `boot.*` settings in a site
 * whose nodes (and unknown machines) install no Harvester.
 */
export function ignoredProblems(
  input: SiteInput,
  model: SiteModel,
  used: ReadonlySet<string>,
  ignored: readonly IgnoredSetting[],
): ModelProblem[] {
  const byPath = new Map<string, IgnoredSetting[]>();
  for (const s of ignored) {
    // sites/_defaults.yaml and sites/_profiles/ are shared by the sites of a repository, which one
    // site cannot judge: a profile its OS nodes ignore may be read by another site's Harvester nodes.
    if (s.at[0] === REPO_LAYER || s.at[0] === PROFILE_LAYER) continue;
    const key = s.at.join('\u0000');
    if (used.has(key)) continue;
    const list = byPath.get(key);
    if (list) list.push(s);
    else byPath.set(key, [s]);
  }
  const problems: ModelProblem[] = [];
  for (const list of byPath.values()) {
    const s = list[0]!;
    const who = (x: IgnoredSetting) => (x.hostname === '' ? 'unknown machines joining' : x.hostname);
    const named = list.slice(0, MAX_NAMED).map(who).join(', ');
    const more = list.length > MAX_NAMED ? ` and ${list.length - MAX_NAMED} more` : '';
    const nodes = list.length === 1 ? `node ${who(s)} (${KIND_NAMES[s.kind]})` : `nodes ${named}${more}`;
    problems.push({
      code: 'NODE_SETTING_IGNORED',
      message: `\`${s.field}\` is ignored: ${nodes} ${list.length === 1 ? 'does' : 'do'} not read it`,
      hint: `Remove it: ${s.instead}.`,
      at: s.at,
      target: 'key',
      ...(list.length === 1 ? { node: s.hostname } : {}),
    });
  }
  problems.push(...labSizingIgnored(input, model));
  const installs = model.unknownJoin !== undefined || model.nodes.some((n) => n.boot === 'harvester');
  if (!installs && model.nodes.length > 0) {
    for (const [key, instead] of Object.entries(INSTALLER_BOOT_SETTINGS)) {
      if ((input.boot as Record<string, unknown>)[key] === undefined) continue;
      problems.push({
        code: 'NODE_SETTING_IGNORED',
        message: `\`boot.${key}\` is ignored: it is for the Harvester installer, and no node of site ${model.site} installs Harvester`,
        hint: `Remove it: ${instead}.`,
        at: ['boot', key],
        target: 'key',
      });
    }
  }
  return problems;
}

/**
 * A node's lab sizing (`lab:` of a node or of `defaults:`) in a site that writes no lab files
 * (no `lab:` section, or `outputs.lab: false`): nothing reads it, not even the installer rules,
 * which take a machine's facts from `hardware:` outside a lab.
 */
function labSizingIgnored(input: SiteInput, model: SiteModel): ModelProblem[] {
  if (model.outputs.lab) return [];
  const hint =
    "Remove it, or give the site a `lab:` section (or `outputs.lab: true`) to write its lab VMs; a machine's facts for the installer rules are its `hardware:`.";
  const written: { at: (string | number)[]; who: string }[] = [];
  const keysOf = (lab: object, at: (string | number)[], who: string) => {
    for (const key of Object.keys(lab)) written.push({ at: [...at, key], who });
  };
  if (input.defaults?.lab !== undefined) keysOf(input.defaults.lab, ['defaults', 'lab'], 'every node');
  (input.nodes ?? []).forEach((n, i) => {
    if (n.lab !== undefined) keysOf(n.lab, ['nodes', i, 'lab'], `node ${n.hostname ?? i}`);
  });
  return written.map(({ at, who }) => ({
    code: 'NODE_SETTING_IGNORED' as const,
    message: `\`lab.${String(at[at.length - 1])}\` (${who}) is ignored: site ${model.site} writes no lab files`,
    hint,
    at,
    target: 'key' as const,
  }));
}
