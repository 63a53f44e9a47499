// How many sites' models a run holds between its passes. build() and check() compile every site
// before the checks between sites can run, so a run of 1,000 sites that kept every model would
// hold 100,000 nodes' models at once. A run keeps whole sites until their nodes reach
// HELD_NODES; every later site is held light (`lighten`): its summary and the facts the checks
// between sites need (as a worker thread sends them back), its diagnostics, and only the source
// texts those point into. build() compiles a light site again when its turn to render comes
// (`recompile`), so peak memory is that of HELD_NODES nodes whatever the number of sites.
// A light site is not free either (its diagnostics, the source texts they point into and the
// facts between sites, held until the run ends): the budget of a run of many sites is smaller by
// LIGHT_SITE_NODES for each of its sites (`runHeldNodes`), so that what it holds at its peak, whole
// sites and light ones together, stays that of HELD_NODES nodes.
// (`lighten` and `recompile` live in ./light.ts, loaded with the compiler: a build whose sites are
// all up to date loads neither.)

/**
 * Nodes whose models a run keeps between its passes (about 8 KB each, with their locators and
 * input files). A site that would take the count past it is held light, unless it is the first.
 */
export const HELD_NODES = 10_000;

/**
 * What one light site weighs against the budget, in nodes. Measured (peak RSS of a cold build,
 * `--jobs 1`, 100,000 rich nodes in 1,000 sites): 900 light sites raised the peak by about 20 MB,
 * 5,000 whole nodes by about 67 MB; so a light site weighs about 1.7 nodes.
 */
export const LIGHT_SITE_NODES = 2;

/** The nodes a run of `sites` sites keeps whole: HELD_NODES less what its light sites will weigh. */
export function runHeldNodes(sites: number): number {
  return Math.max(0, heldNodes() - LIGHT_SITE_NODES * sites);
}

/** The count of nodes a run keeps whole, and whether the next site fits. */
export class HeldNodes {
  #held = 0;
  constructor(readonly budget: number = heldNodes()) {}

  /** Whether a site of `nodes` nodes is kept whole (counted when it is). */
  keep(nodes: number): boolean {
    if (this.#held > 0 && this.#held + nodes > this.budget) return false;
    this.#held += nodes;
    return true;
  }
}

/** HELD_NODES, or in tests `HARVGEN_TEST_HELD_NODES` (a small run that holds most of its sites light). */
export function heldNodes(): number {
  const raw = process.env.HARVGEN_TEST_HELD_NODES;
  const n = raw ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : HELD_NODES;
}
