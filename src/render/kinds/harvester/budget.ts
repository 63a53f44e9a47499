// The Harvester configs of a site within their limits: each node's at most MAX_NODE_CONFIG_BYTES,
// all together at most MAX_SITE_CONFIG_BYTES, checked on the merged `config:` before a config is
// built and on the files as they are rendered; and the problems a `config:` makes in the
// installer's schema, mapped back to the inventory and reported once for the nodes that share them.
import type { Diagnostic } from '../../../diagnostics/types.ts';
import type { Locator } from '../../../load/index.ts';
import { REPO_LAYER } from '../../../types/layers.ts';
import type { SecretMode } from '../../../types/secret-mode.ts';
import type { HarvesterNode, SiteModel } from '../../../model/index.ts';
import type { InstallerSchemaIssue } from '../../../harvester/installer-schema.ts';
import { formatPath, type InventoryPath } from '../../../util/paths.ts';
import { checkHarvesterConfig, renderHarvesterConfig } from '../../../derive/harvester/config.ts';
import { writtenConfig } from '../../../derive/harvester/effective.ts';
import { configPath } from '../../../derive/harvester/cmdline.ts';

/**
 * The largest Harvester config a node may have, in bytes: what its installer downloads at boot.
 * harvgen's own part is a few KB; the rest is `config:`, merged over the node's layers. 1 MiB is
 * the most an inventory file may hold (LOAD_FILE_TOO_LARGE): a config past it can only come from
 * repetition (aliases, large values repeated in several layers), which once made 13 node configs
 * of 94 MB each (2.3 GB of memory). Checked on the merged `config:` before the config is built
 * (so an oversized one costs no more than counting it), and on the rendered file.
 */
export const MAX_NODE_CONFIG_BYTES = 1024 * 1024;

/**
 * The most the Harvester configs of one site may hold together, in bytes: measured as
 * MAX_NODE_CONFIG_BYTES is for each node (the merged `config:` before any config is built, then
 * the rendered files as they are made), summed over the nodes (and the node an unknown machine
 * joins as). A build holds every file of a site in memory, and a `config:` under `defaults:`, a
 * profile or sites/_defaults.yaml is repeated in the config of every node that takes it: 1 MB of
 * `defaults.config` and 400 one-line node files (1 MB of inventory) rendered 388 MB (566 MB of
 * memory), each node under its own limit. harvgen's own part of a config is about 1.3 KB, so
 * 10,000 nodes with a few KB of `config:` each come to 30-50 MB, under 64 MiB; a site over it
 * repeats large values, and holds at most 64 MiB (plus one node's 1 MiB) of configs.
 */
export const MAX_SITE_CONFIG_BYTES = 64 * 1024 * 1024;

/** The installers a budget was made for, and the `config:` bytes in all of those under the node limit. */
interface Counted {
  readonly installers: readonly HarvesterNode[];
  readonly total: number;
}

/** A node's `config:` bytes as the site's budget counts them: none when over the node limit (reported on its own). */
function underLimit(n: HarvesterNode, sizes: Sizes): number {
  const size = dataSize(n.config, sizes);
  return size <= MAX_NODE_CONFIG_BYTES ? size : 0;
}

/** Every installer's `config:` counted. */
function count(installers: readonly HarvesterNode[], sizes: Sizes): Counted {
  let total = 0;
  for (const n of installers) total += underLimit(n, sizes);
  return { installers, total };
}

/**
 * The last count, with only the installers that are other objects at their place counted again
 * (the others are the same frozen nodes, whose `config:` is the same size): the last one itself
 * while every installer is the same. A list of another length is counted whole.
 */
function recount(last: Counted, installers: readonly HarvesterNode[], sizes: Sizes): Counted {
  if (last.installers === installers) return last;
  if (last.installers.length !== installers.length) return count(installers, sizes);
  let total = last.total;
  let changed = false;
  for (let i = 0; i < installers.length; i++) {
    const was = last.installers[i]!;
    const now = installers[i]!;
    if (was === now) continue;
    changed = true;
    total += underLimit(now, sizes) - underLimit(was, sizes);
  }
  return changed ? { installers, total } : last;
}

/** The last Counted of each site under watch, by its kept sizes (RenderCache.sizes). */
const lastCounted = new WeakMap<WeakMap<object, number>, Counted>();

/** Adds one file of the tree; `limit` sees its size and may refuse it (render/index.ts). */
export type AddFile = (path: string, render: () => string, opts: { served: true; limit: (bytes: number) => boolean }) => void;

/** The configs of one site being rendered, and what their limits and the installer's schema found. */
export class ConfigBudget {
  readonly #model: SiteModel;
  readonly #locate: Locator;
  readonly #secrets: SecretMode;
  readonly #diagnostics: Diagnostic[] = [];
  // Configs over MAX_NODE_CONFIG_BYTES, by the `config:` they are reported at (one for all the
  // nodes that share it, as for #problems).
  readonly #oversized = new Map<string, { d: Diagnostic; nodes: string[] }>();
  // A problem in `defaults.config` shows up once per node: report it once, naming all nodes.
  readonly #problems = new Map<string, { d: Diagnostic; nodes: string[] }>();
  readonly #sizes: Sizes;
  readonly #installers: readonly HarvesterNode[];
  #tooLarge = 0;
  #over = false;
  #written = 0;
  #writtenBytes = 0;

  /** `kept`: sizes of frozen values kept across renders of the site (watch's RenderCache). */
  constructor(
    model: SiteModel,
    locate: Locator,
    secrets: SecretMode,
    installers: readonly HarvesterNode[],
    kept?: WeakMap<object, number>,
  ) {
    this.#sizes = { own: new WeakMap(), ...(kept ? { kept } : {}) };
    this.#model = model;
    this.#locate = locate;
    this.#secrets = secrets;
    // The site's budget, checked on the merged `config:`s before any node is rendered, then on
    // the files as they are rendered (escapes make a file longer than its `config:`); once over
    // it, no more configs are built, and it is reported once.
    // Under watch (`kept`), the last render's answer while the installers are the same node
    // objects (frozen: the same `config:` values, the same sizes), without a lookup for each.
    const last = kept ? lastCounted.get(kept) : undefined;
    const counted = last !== undefined ? recount(last, installers, this.#sizes) : count(installers, this.#sizes);
    if (kept) lastCounted.set(kept, counted);
    this.#installers = installers;
    const total = counted.total;
    if (total > MAX_SITE_CONFIG_BYTES) this.#overSite(`their \`config:\` holds ${formatBytes(total)}`);
  }

  /** Whether no more configs are built (the site's budget is spent). */
  get over(): boolean {
    return this.#over;
  }

  /** How many configs were found too large so far (a node's render compares it before and after). */
  get tooLargeCount(): number {
    return this.#tooLarge;
  }

  /** Whether a config of `bytes` already rendered (a cached one) still fits; counted when it does. */
  reuse(bytes: number): boolean {
    if (this.#over || this.#writtenBytes + bytes > MAX_SITE_CONFIG_BYTES) return false;
    return this.#spend(bytes);
  }

  /** Build, check and add the config of one node; returns whether the installer's schema took it. */
  render(node: HarvesterNode, add: AddFile): boolean {
    const data = dataSize(node.config, this.#sizes);
    // An oversized `config:` is reported before the config is built, checked or written.
    if (data > MAX_NODE_CONFIG_BYTES) {
      this.#tooLargeConfig(node, data, 'its `config:` holds');
      return true;
    }
    if (this.#over) return true;
    const config = writtenConfig(this.#model, node, this.#secrets);
    const issues = checkHarvesterConfig(node, config);
    for (const issue of issues) {
      const d = configIssueToDiagnostic(issue, node, this.#locate);
      if (node === this.#model.unknownJoin) {
        this.#diagnostics.push(d);
        continue;
      }
      const key = `${d.file}:${d.line}:${d.col}|${d.message.replace(node.hostname, '')}`;
      const seen = this.#problems.get(key);
      if (seen) seen.nodes.push(node.hostname);
      else this.#problems.set(key, { d, nodes: [node.hostname] });
    }
    add(configPath(this.#model, node), () => renderHarvesterConfig(this.#model, node, config, this.#secrets), {
      served: true,
      limit: (bytes) =>
        (bytes <= MAX_NODE_CONFIG_BYTES || (this.#tooLargeConfig(node, bytes, 'the file would be'), false)) && this.#spend(bytes),
    });
    return issues.length === 0;
  }

  /** The diagnostics of the configs, each problem once for all the nodes that share it. */
  diagnostics(): Diagnostic[] {
    const merged = (m: Map<string, { d: Diagnostic; nodes: string[] }>) =>
      [...m.values()].map(({ d, nodes }) =>
        nodes.length === 1 ? d : { ...d, message: d.message.replace(`node ${nodes[0]}`, `nodes ${nodes.join(', ')}`) },
      );
    return [...merged(this.#problems), ...this.#diagnostics, ...merged(this.#oversized)];
  }

  /** Whether a rendered config of `bytes` stays within the site's budget (reported when not). */
  #spend(bytes: number): boolean {
    if (this.#over) return false;
    if (this.#writtenBytes + bytes > MAX_SITE_CONFIG_BYTES) {
      this.#overSite(`the first ${this.#written + 1} files would be ${formatBytes(this.#writtenBytes + bytes)}`);
      return false;
    }
    this.#written++;
    this.#writtenBytes += bytes;
    return true;
  }

  #tooLargeConfig(node: HarvesterNode, bytes: number, what: string): void {
    this.#tooLarge++;
    const at: InventoryPath = node.sources.config ?? (node.index >= 0 ? ['nodes', node.index] : ['defaults']);
    const loc = this.#locate(at, 'key');
    const key = `${formatPath(at)}|${what}`;
    const seen = this.#oversized.get(key);
    if (seen) {
      seen.nodes.push(node.hostname);
      return;
    }
    this.#oversized.set(key, {
      nodes: [node.hostname],
      d: {
        code: 'RENDER_CONFIG_TOO_LARGE',
        severity: 'error',
        message: `the Harvester config of node ${node.hostname} would be more than ${MAX_NODE_CONFIG_BYTES / (1024 * 1024)} MiB: ${what} ${formatBytes(bytes)}`,
        hint: "A node's config is what its installer downloads at boot: at most 1 MiB. Its `config:` is merged from the node's, its profiles', `defaults:` and sites/_defaults.yaml: remove what the installer does not need, and repeat no large value (an alias repeats its anchor's whole value).",
        path: formatPath(at),
        ...(loc ?? {}),
      },
    });
  }

  #overSite(what: string): void {
    this.#over = true;
    const counted = this.#installers.filter((n) => dataSize(n.config, this.#sizes) <= MAX_NODE_CONFIG_BYTES);
    const { at, bytes, nodes } = largestShare(counted, this.#sizes, this.#locate);
    const loc = this.#locate(at, 'key');
    this.#diagnostics.push({
      code: 'RENDER_SITE_CONFIGS_TOO_LARGE',
      severity: 'error',
      message: `the Harvester configs of the site's ${counted.length} nodes would be more than ${MAX_SITE_CONFIG_BYTES / (1024 * 1024)} MiB in all: ${what}; the largest part of their \`config:\` (${formatBytes(bytes)}) is this one${nodes > 1 ? `, repeated in ${nodes} nodes` : ''}`,
      hint: `Every node's config is served to its installer, and harvgen holds a site's files in memory while it builds: at most ${MAX_SITE_CONFIG_BYTES / (1024 * 1024)} MiB of configs for all nodes together. A \`config:\` under \`defaults:\`, a profile or sites/_defaults.yaml is repeated in the config of every node that takes it: keep large values out of a shared \`config:\`, or split the nodes into several sites.`,
      path: formatPath(at),
      ...(loc ?? {}),
    });
  }
}

/** Map an installer-schema issue to the `config:` key that caused it (node first, then defaults). */
function configIssueToDiagnostic(issue: InstallerSchemaIssue, node: HarvesterNode, locate: Locator): Diagnostic {
  const full = issue.key !== undefined ? [...issue.path, issue.key] : issue.path;
  const candidates: InventoryPath[] = [...(node.index >= 0 ? [['nodes', node.index, 'config']] : []), ['defaults', 'config']];
  let at: InventoryPath | undefined;
  for (const base of candidates) {
    // The deepest existing prefix of the issue path inside this `config:` block.
    for (let n = full.length; n > 0 && !at; n--) {
      const probe = [...base, ...full.slice(0, n)];
      if (locate.has(probe)) at = probe;
    }
    if (at) break;
  }
  const configPath = formatPath(full);
  if (!at) {
    return {
      code: 'HARVESTER_CONFIG_INVALID',
      severity: 'error',
      message: `generated config of node ${node.hostname} breaks the installer schema at ${configPath}: ${issue.message}`,
      hint: 'This is a bug in harvgen; please report it with the inventory.',
    };
  }
  const loc = locate(at, issue.keyword === 'additionalProperties' ? 'key' : 'value');
  return {
    code: 'HARVESTER_CONFIG_INVALID',
    severity: 'error',
    message: `config of node ${node.hostname}: ${configPath} ${issue.message}`,
    hint: "Fix the `config:` entry; it is checked against the Harvester installer's own schema for this release.",
    path: formatPath(at),
    ...(loc ?? {}),
  };
}

/**
 * Where most of the nodes' `config:` comes from, for the site's budget: each node's merged
 * `config:` split into what it shares with other nodes (the values of a `config:` under
 * `defaults:`, a profile or sites/_defaults.yaml are the same objects in every node that merges
 * them) and the rest; the shared part counted at the strongest shared `config:` the node takes
 * (else `defaults.config`, else sites/_defaults.yaml's), the rest at the strongest `config:` the
 * node takes (its own, when it has one). Each object is walked once for all nodes.
 */
function largestShare(nodes: readonly HarvesterNode[], sizes: Sizes, locate: Locator): { at: InventoryPath; bytes: number; nodes: number } {
  // How many nodes reach each object (an alias inside one node's own `config:` is not sharing).
  const users = new Map<object, number>();
  const lastUser = new Map<object, number>();
  const count = (value: unknown, i: number): void => {
    if (value === null || typeof value !== 'object' || lastUser.get(value) === i) return;
    const first = !users.has(value);
    lastUser.set(value, i);
    users.set(value, (users.get(value) ?? 0) + 1);
    if (first) for (const v of Object.values(value)) count(v, i);
  };
  nodes.forEach((n, i) => count(n.config, i));
  // The bytes of the largest values a node shares with others, reached through its own (an
  // object of one node is remembered: only that node reaches it).
  const sharedBytes = new Map<object, number>();
  const shared = (value: unknown): number => {
    if (value === null || typeof value !== 'object') return 0;
    if ((users.get(value) ?? 0) > 1) return dataSize(value, sizes);
    const known = sharedBytes.get(value);
    if (known !== undefined) return known;
    let n = 0;
    for (const v of Object.values(value)) n += shared(v);
    sharedBytes.set(value, n);
    return n;
  };
  const sharedAt = (node: HarvesterNode): InventoryPath => {
    const source = node.sources.config;
    if (source && source[0] !== 'nodes') return source;
    for (const at of [
      ['defaults', 'config'],
      [REPO_LAYER, 'config'],
    ])
      if (locate.has(at)) return at;
    return source ?? ['defaults'];
  };
  const shares = new Map<string, { at: InventoryPath; bytes: number; nodes: number; last: number }>();
  const credit = (at: InventoryPath, bytes: number, i: number) => {
    if (bytes === 0) return;
    const key = formatPath(at);
    const s = shares.get(key) ?? shares.set(key, { at, bytes: 0, nodes: 0, last: -1 }).get(key)!;
    s.bytes += bytes;
    if (s.last !== i) s.nodes++;
    s.last = i;
  };
  nodes.forEach((node, i) => {
    const common = shared(node.config);
    credit(sharedAt(node), common, i);
    credit(node.sources.config ?? (node.index >= 0 ? ['nodes', node.index] : ['defaults']), dataSize(node.config, sizes) - common, i);
  });
  let best = { at: ['defaults'] as InventoryPath, bytes: 0, nodes: 0 };
  for (const s of shares.values()) if (s.bytes > best.bytes) best = s;
  return { at: best.at, bytes: best.bytes, nodes: best.nodes };
}

/**
 * The bytes a value takes at the least when written as YAML: each key and scalar as its text, with
 * `: ` after a key and `- ` before a list item. Remembered per object: the layers' `config:`
 * values are shared by every node that merges them, and counted once.
 */
function dataSize(value: unknown, sizes: Sizes): number {
  if (value === null || typeof value !== 'object') return String(value).length;
  const { own, kept } = sizes;
  const known = kept?.get(value) ?? own.get(value);
  if (known !== undefined) return known;
  let n = 0;
  // Kept across renders only when frozen all the way down (the model is): such a size never changes.
  let frozen = kept !== undefined && Object.isFrozen(value);
  const count = (v: unknown) => {
    n += dataSize(v, sizes);
    if (frozen && v !== null && typeof v === 'object' && !kept!.has(v)) frozen = false;
  };
  if (Array.isArray(value)) {
    for (const v of value) {
      n += 2;
      count(v);
    }
  } else {
    for (const [k, v] of Object.entries(value)) {
      n += k.length + 2;
      count(v);
    }
  }
  (frozen ? kept! : own).set(value, n);
  return n;
}

/** The sizes one budget counted, and (watch) those of frozen values kept across the site's renders. */
interface Sizes {
  readonly own: WeakMap<object, number>;
  readonly kept?: WeakMap<object, number>;
}

/** 1.5 MiB, 94.3 MiB. */
function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
