// The public types of a publish run, apart from the sinks (src/publish/sink.ts) so that the
// library's declarations name no Node.js type: what a run is asked and what it answers.
import type { Diagnostic } from '../diagnostics/types.ts';

export interface PublishRunOptions {
  readonly sites: readonly string[];
  /** In place of each site's `publish.registry` (a mirror, a test registry). */
  readonly registry?: string;
  /** A local mirror of the release files (`<dir>/<version>/<file>`); without it no release part is published. */
  readonly releasesDir?: string;
  /** Build, sign and compare with the registry; write nothing. */
  readonly dryRun?: boolean;
  /**
   * Publish a site whose inputs have uncommitted changes (PUBLISH_DIRTY, then a warning) under
   * `<site>-<commit>-dirty-<digest>` instead of `<site>-<commit>`, which names committed inputs only.
   */
  readonly allowDirty?: boolean;
  /** Where the fleet record is written (default `published`); null: none. */
  readonly recordDir?: string | null;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Uploads in flight at once per site (default 8). */
  readonly concurrency?: number;
  /** Compile and compare every site, even one whose inputs did not change since it was published. */
  readonly force?: boolean;
}

export interface PublishSite {
  readonly dir: string;
  readonly site?: string;
  readonly repository?: string;
  readonly digest?: string;
  readonly tags?: readonly string[];
  /** What the registry held before under the site's tag (undefined: nothing). */
  readonly previous?: string;
  /** With `allowDirty`: the uncommitted changes published (paths from the repository root). */
  readonly dirty?: readonly string[];
  readonly files?: { readonly public: number; readonly sealed: number };
  readonly nodes?: number;
  /** Not compiled: its inputs, this harvgen and the registry's tag are as when it was last published. */
  readonly unchanged?: true;
  /** With `publish.cosign_key`: the tag of the artifact's cosign signature (`sha256-<hex>.sig`). */
  readonly cosignSignature?: string;
  /** The cluster side for Flux (a planned upgrade's Version and Upgrade): its digest and tag (`<site>-cluster`). */
  readonly cluster?: { readonly digest: string; readonly tag: string };
  readonly diagnostics: readonly Diagnostic[];
}

export interface PublishResult {
  readonly ok: boolean;
  readonly sites: readonly PublishSite[];
  readonly diagnostics: readonly Diagnostic[];
  readonly durationMs: number;
}

/** What a run wrote, for the report and the benchmark. */
export interface SinkCounts {
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
  bytesUploaded: number;
  manifestsPut: number;
  requests: number;
}
