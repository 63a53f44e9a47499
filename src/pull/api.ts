// `pull()` and `listVersions()` as the library offers them: from a registry repository named by
// pull.json (an OCI layout source is the CLI's `--from`, src/pull/index.ts). Declared here so that
// the library's declarations name only the types of src/pull/types.ts, none of Node.js.
import { DEFAULT_TIMEOUT_MS } from './deadline.ts';
import { listVersions as listKept, pull as pullRun } from './index.ts';
import type { PullOptions, PullResult, VersionInfo } from './types.ts';

/** One pull; never throws for a registry's answers, a refusal, a failed step or the deadline. */
export function pull(options: PullOptions): Promise<PullResult> {
  return pullRun(options);
}

/** The versions the store of pull.json keeps, newest first, or why they cannot be listed. */
export function listVersions(configFile: string): { versions: VersionInfo[] } | { problem: string } {
  return listKept(configFile);
}

/** A whole pull's default time limit in ms (`timeoutMs`). */
export const PULL_TIMEOUT_MS: number = DEFAULT_TIMEOUT_MS;
