// The public types of `pull()`: what a run is asked and answers, and the versions a store keeps.
// Apart from the sources (src/publish/sink.ts) so that the library's declarations name no Node.js type.
import type { Diagnostic } from '../diagnostics/types.ts';
import type { PullState } from './state.ts';

export type { PullState, PullVerdict } from './state.ts';

export interface PullOptions {
  /** pull.json's path. */
  readonly config: string;
  /** Plain HTTP to the registry (also pull.json's `insecure`: the pull unit takes it from there). */
  readonly insecure?: boolean;
  /** Trust the CA certificates in this directory for the registry (also pull.json's `cert_dir`). */
  readonly certDir?: string;
  /** The whole run's limit in ms (default 30 minutes, `DEFAULT_TIMEOUT_MS`): a stalled registry cannot hold the pull. */
  readonly timeoutMs?: number;
  /** Stops the run (as its deadline does). */
  readonly signal?: AbortSignal;
  /** Pull this digest, not what the tag names. */
  readonly digest?: string;
  /** Serve the previous version again (or `rollbackTo`, a digest still kept). */
  readonly rollback?: boolean;
  readonly rollbackTo?: string;
  /** Accept an artifact older (by its signed serial) than the one served. */
  readonly allowOlder?: boolean;
  /** Check the local server after the switch (default true). */
  readonly verify?: boolean;
  /** Verify the boot server at this URL instead of boot.server (tests, a server behind another name). */
  readonly verifyUrl?: string;
  /**
   * How long, after a reload, the server may take to answer with the new tree's nginx config
   * before the verdict fails (default CONFIG_WAIT_MS, src/pull/verify.ts).
   */
  readonly configWaitMs?: number;
  readonly onStep?: (step: string) => void;
  /** Told each warning of the registry client (a token service on another host than the registry). */
  readonly onWarning?: (message: string) => void;
}

export interface PullResult {
  readonly ok: boolean;
  readonly site?: string;
  /** What is served after the run. */
  readonly digest?: string;
  readonly previous?: string;
  /** `switched`, `up-to-date`, `rolled-back` or `refused`/`failed`. */
  readonly action: 'switched' | 'up-to-date' | 'rolled-back' | 'refused' | 'failed';
  readonly files?: number;
  readonly releasesWritten?: number;
  readonly verdict?: PullState['verdict'];
  readonly diagnostics: readonly Diagnostic[];
}

/** A version the store keeps (`harvgen pull --list`). */
export interface VersionInfo {
  hex: string;
  dir: string;
  served: boolean;
  previous: boolean;
  /** The last time it was switched to, absent for a version never served. */
  switched_at?: string;
  serial?: number;
  commit?: string;
}
