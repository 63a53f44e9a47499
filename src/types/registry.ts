// The repository names harvgen keeps for itself in a registry's namespace, beside the sites' own
// (`<registry>/<site>`): publish writes there, and the inventory's rule refuses a site named so.

/** The repository of a namespace's fleet state (src/publish/fleet-state.ts): no site may be named so. */
export const FLEET_STATE_REPOSITORY = 'harvgen-fleet';
