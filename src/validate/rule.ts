// The contract every semantic rule implements. Rules read the input (for presence checks)
// and the resolved model (for final values), and report through ctx.report, which turns an
// inventory path into file:line:col.
import type { Code } from '../diagnostics/codes.ts';
import type { Severity } from '../diagnostics/types.ts';
import type { LocateTarget } from '../load/index.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { computeAlways, memoEach, type NodeMemo } from '../model/memo.ts';
import type { NodeInput, SiteInput } from '../types/site-input.ts';
import type { InventoryPath } from '../util/paths.ts';

/** What a rule reports. `at` is the inventory path of the value that caused it. */
export interface Finding {
  readonly code: Code;
  readonly message: string;
  readonly hint?: string;
  readonly at?: InventoryPath;
  readonly target?: LocateTarget;
  /** Hostname of the node the finding is about (lets a `defaults:` problem be reported once). */
  readonly node?: string;
  /** Overrides the code's default severity (rarely needed). */
  readonly severity?: Severity;
}

/** What a rule gets. */
export interface RuleContext {
  readonly input: SiteInput;
  readonly model: SiteModel;
  /** Some nodes could not be resolved (each reported): rules about the whole set of nodes say nothing. */
  readonly partial: boolean;
  readonly report: (finding: Finding) => void;
  /** Per-node results kept across compiles of the site (watch); computes every time otherwise. */
  readonly memo: NodeMemo;
}

/**
 * Run `check` on every node of the model in order, reporting what it finds. What it finds about a
 * node must depend on nothing but that node and the site's values without its node list (no other
 * node, no `partial`): it is then kept per node object under `name` and, in watch, not computed
 * again for a node that did not change.
 */
export function eachNode(ctx: RuleContext, name: string, check: (node: ResolvedNode, report: (finding: Finding) => void) => void): void {
  // Nothing is kept (a build without watch): reported as found, no list per node.
  if (ctx.memo === computeAlways) {
    for (const node of ctx.model.nodes) check(node, ctx.report);
    return;
  }
  reportAll(ctx, nodeFindings(ctx, name, check));
}

/**
 * What `check` finds about each node of the model, a list per node in order, kept as eachNode
 * keeps it (a node with nothing to say shares one empty list; the lists are the same array while
 * no node's changed). For a rule that reports them with findings of its own (`reportAll` else).
 */
export function nodeFindings(
  ctx: RuleContext,
  name: string,
  check: (node: ResolvedNode, report: (finding: Finding) => void) => void,
): readonly (readonly Finding[])[] {
  // One function for every node (a closure per node would be garbage at every rebuild when kept).
  const compute = (node: ResolvedNode): readonly Finding[] => {
    let out: Finding[] | undefined;
    check(node, (f) => (out ??= []).push(f));
    return out ?? NONE;
  };
  return memoEach(ctx.memo, `rule:${name}`, ctx.model.nodes, compute, (a, b) => a.length === 0 && b.length === 0);
}

/** Report every node's findings in order, their concatenation kept with the list of lists (while no node's changed, reported again as they are). */
export function reportAll(ctx: RuleContext, found: readonly (readonly Finding[])[]): void {
  let all = flattened.get(found);
  if (!all) flattened.set(found, (all = found.flat()));
  for (let i = 0; i < all.length; i++) ctx.report(all[i]!);
}

/**
 * Run `check` on every node of the inventory as written (`input.nodes`, those that could not be
 * resolved too) in order. What it finds about a node must depend on nothing but that node's input
 * and its index: under watch's memo each node's findings are kept with its input object (an
 * unchanged inventory value is the same frozen object of the parse cache) at its index, and a
 * rebuild checks only the nodes whose input is another object, or one that is not frozen (which
 * could have changed in place).
 */
export function eachInputNode(
  ctx: RuleContext,
  name: string,
  check: (node: NodeInput, index: number, report: (finding: Finding) => void) => void,
): void {
  const nodes = ctx.input.nodes ?? [];
  const state = ctx.memo.parts?.state;
  if (!state) {
    nodes.forEach((node, i) => check(node, i, ctx.report));
    return;
  }
  const key = `input:${name}`;
  const last = state.get(key) as KeptInputs | undefined;
  const one = (i: number): readonly Finding[] => {
    let out: Finding[] | undefined;
    check(nodes[i]!, i, (f) => (out ??= []).push(f));
    return out ?? NONE;
  };
  let found: (readonly Finding[])[];
  let all: readonly Finding[] | undefined;
  if (last !== undefined && last.nodes.length === nodes.length) {
    found = last.found;
    all = last.all;
    for (let i = 0; i < nodes.length; i++) {
      if (nodes[i] === last.nodes[i] && Object.isFrozen(nodes[i])) continue;
      const now = one(i);
      if (now.length === 0 && found[i]!.length === 0) continue;
      if (found === last.found) found = found.slice();
      found[i] = now;
      all = undefined;
    }
  } else found = nodes.map((_n, i) => one(i));
  all ??= found.flat();
  state.set(key, { nodes, found, all });
  for (let i = 0; i < all.length; i++) ctx.report(all[i]!);
}

/** What eachInputNode keeps of a rule's last run: the nodes' inputs, each one's findings, all of them in order. */
interface KeptInputs {
  readonly nodes: readonly NodeInput[];
  readonly found: (readonly Finding[])[];
  readonly all: readonly Finding[];
}

/** No finding. */
const NONE: readonly Finding[] = Object.freeze([]);

/** The findings of every node in order, by the list of each node's (memoEach keeps it while no node's changed). */
const flattened = new WeakMap<readonly (readonly Finding[])[], readonly Finding[]>();

/** A semantic rule: a name, the codes it may report, and the check. */
export interface Rule {
  readonly name: string;
  readonly codes: readonly Code[];
  readonly check: (ctx: RuleContext) => void;
}

/**
 * `NET_IP_INVALID` for a field that takes an IPv4 address: `<what> "<value>" is not an IPv4
 * address`, with the field's own hint.
 */
export function notIpv4(
  report: (finding: Finding) => void,
  f: { what: string; value: string; hint: string; at: Finding['at']; target?: Finding['target'] },
): void {
  report({
    code: 'NET_IP_INVALID',
    message: `${f.what} "${f.value}" is not an IPv4 address`,
    hint: f.hint,
    at: f.at,
    ...(f.target !== undefined ? { target: f.target } : {}),
  });
}
