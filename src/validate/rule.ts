// The contract every semantic rule implements. Rules read the input (for presence checks)
// and the resolved model (for final values), and report through ctx.report, which turns an
// inventory path into file:line:col.
import type { Code } from '../diagnostics/codes.ts';
import type { Severity } from '../diagnostics/types.ts';
import type { LocateTarget } from '../load/index.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { computeAlways, memoEach, type NodeMemo } from '../model/memo.ts';
import type { SiteInput } from '../types/site-input.ts';
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
  // One function for every node (a closure per node would be garbage at every rebuild when kept);
  // a node with nothing to say shares one empty list.
  const compute = (node: ResolvedNode): readonly Finding[] => {
    let out: Finding[] | undefined;
    check(node, (f) => (out ??= []).push(f));
    return out ?? NONE;
  };
  // Each node's findings as one list kept with the nodes (memoEach), and their concatenation kept
  // with that list: while no node changed what it finds, reported again as they are.
  const found = memoEach(ctx.memo, `rule:${name}`, ctx.model.nodes, compute, (a, b) => a.length === 0 && b.length === 0);
  let all = flattened.get(found);
  if (!all) flattened.set(found, (all = found.flat()));
  for (let i = 0; i < all.length; i++) ctx.report(all[i]!);
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
