// The data `explain` reports: each resolved value of a node and where it came from.

/** What `explain` shows in place of a secret. */
export const MASK = '***';

/** Where one value came from. */
export type Provenance =
  | { readonly kind: 'inventory'; readonly path: string; readonly file?: string; readonly line?: number; readonly col?: number }
  | { readonly kind: 'built-in' }
  | { readonly kind: 'derived'; readonly from: string };

/** One resolved value of a node. */
export interface ExplainedValue {
  /** Dotted name, e.g. `install.device`, `bond.mode`. */
  readonly key: string;
  readonly value: unknown;
  readonly source: Provenance;
}

/** Everything `explain` says about one node. */
export interface Explanation {
  readonly site: string;
  readonly hostname: string;
  readonly values: readonly ExplainedValue[];
}

/** Where `explain` asks a node's kind for its lines, in the order it prints them. */
export type ExplainPart = 'kind' | 'role' | 'network' | 'settings';

/** What `explain` gives a node's kind to add its lines with. */
export interface ExplainSink {
  add(key: string, value: unknown, source: Provenance): void;
  /** A node field: where its layer set it, else the site-wide `fallback` when written, else built in. */
  field(key: string, fallback?: readonly (string | number)[]): Provenance;
  /** A value written at `path`. */
  where(path: readonly (string | number)[]): Provenance;
}
