// How many sites' models a run holds between its passes. build() and check() compile every site
// before the checks between sites can run, so a run of 1,000 sites that kept every model would
// hold 100,000 nodes' models at once. A run keeps whole sites until their nodes reach
// HELD_NODES; every later site is held light (`lighten`): its summary and the facts the checks
// between sites need (as a worker thread sends them back), its diagnostics, and only the source
// texts those point into. build() compiles a light site again when its turn to render comes
// (`recompile`), so peak memory is that of HELD_NODES nodes whatever the number of sites.
// (`lighten` and `recompile` live in ./light.ts, loaded with the compiler: a build whose sites are
// all up to date loads neither.)

/**
 * Nodes whose models a run keeps between its passes (about 8 KB each, with their locators and
 * input files). A site that would take the count past it is held light, unless it is the first.
 */
export const HELD_NODES = 10_000;

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
