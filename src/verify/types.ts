// What verify reports per server and as it goes (no I/O here: the public declarations need no Node types).

/** One request done, of `total`. */
export interface VerifyProgress {
  readonly done: number;
  readonly total: number;
  readonly url: string;
}

/** One site on one server. */
export interface VerifyServer {
  readonly site: string;
  readonly url: string;
  /** Requests made. */
  readonly checks: number;
  /** Checks that found a difference. */
  readonly failed: number;
  /** Files refused to verify's address as their access rules say (check them from a node's address). */
  readonly refused: readonly string[];
  /** The address the server saw verify connect from. */
  readonly source?: string;
  /** False when the server did not answer (the remaining checks were not made). */
  readonly reachable: boolean;
}

/** The materializer's last verdict, as its state.json says. */
export interface FleetVerdict {
  readonly ok: boolean;
  readonly checks: number | null;
  readonly failed: number | null;
  readonly at: string | null;
  /** Why the materializer did not verify (`not verified: --no-verify`), when it said so. */
  readonly skipped?: string;
}
