// The shared layers a site draws on (`sites/_defaults.yaml`, `sites/_profiles/*.yaml`) and the
// root segments that name them in an inventory path. Load reads them, validate checks them, the
// model applies them, render's budget and the rules point into them: they live here, below all
// of those, so that none of them imports them from a stage that runs earlier or later.

/** Shared layers next to the site directories (`sites/_defaults.yaml`, `sites/_profiles/*.yaml`), as written. */
export interface Layers {
  readonly repo?: Record<string, unknown>;
  /** Profiles by name (the file name without `.yaml`). */
  readonly profiles: Readonly<Record<string, Record<string, unknown>>>;
  /**
   * The site's measured facts (`<site>/facts/<hostname>.yaml`, written by `harvgen facts`), by
   * hostname (the file name without `.yaml`), as written. Not a layer of settings: the installer
   * rules read them beside the node's declared `hardware:` (src/facts/).
   */
  readonly measured?: Readonly<Record<string, Record<string, unknown>>>;
}

/** Root segment of inventory paths into the repo-wide defaults file. */
export const REPO_LAYER = '$repo';
/** Root segment of inventory paths into a profile file (`['$profiles', name, ...]`). */
export const PROFILE_LAYER = '$profiles';
/** Root segment of inventory paths into a facts file (`['$measured', hostname, ...]`). */
export const MEASURED_LAYER = '$measured';
