// The effective installer config of a node as the installer rules read it: the document its
// installer parses, and for every key the inventory line that set it. Built from the model by
// src/derive/harvester/effective.ts.
import type { InventoryPath } from '../util/paths.ts';

/** The installer's config of one node, with where each value came from. */
export interface EffectiveConfig {
  /** The parsed document (secrets as markers: no rule reads them). */
  readonly doc: Readonly<Record<string, unknown>>;
  /** The config file as harvgen writes it for the committed tree (secrets as markers, no kernel-line keys). */
  readonly written: Readonly<Record<string, unknown>>;
  /** The value at a dotted key (`install.data_disk`); undefined when absent. */
  get(key: string): unknown;
  /** The inventory path of the line that set the value at `key` (the node itself for a built-in default). */
  at(key: string): InventoryPath;
  /** How the value at `key` got there. */
  origin(key: string): ConfigOrigin;
  /**
   * The value `config:` gives at `key` as the inventory wrote it (undefined when `config:` sets
   * none), before the installer's reading of it (src/harvester/installer-values.ts) that `get` shows.
   */
  given(key: string): unknown;
}

/** `config`: a `config:` key (any layer); `field`: an inventory setting harvgen writes; `default`: harvgen's own. */
export type ConfigOrigin = 'config' | 'field' | 'default';
