// `publishSites()` and `exportSites()`: what `harvgen publish` and `harvgen export` do, for the
// library and the CLI alike: the options checked (a problem instead of a run), the sites published
// to their registries (or written into an OCI layout), the transfer counted, and the sites that
// were published listed. The OCI client loads only when a run starts.
import { publish } from './index.ts';
import type { PublishResult, PublishRunOptions, SinkCounts } from './types.ts';

/** Options of `publishSites`: `publish()`'s without the sink, which is each site's registry. */
export interface PublishSitesOptions extends PublishRunOptions {
  /** Talk plain HTTP to the registry (a lab registry on a trusted network). */
  readonly insecure?: boolean;
  /** Trust the CA certificates (`*.crt`) in this directory for the registry. */
  readonly certDir?: string;
  /** Told each warning of the registry client (a token service on another host than the registry). */
  readonly onWarning?: (message: string) => void;
}

/** Options of `exportSites`: the sites, written into an OCI layout instead of a registry. */
export interface ExportSitesOptions extends Omit<PublishRunOptions, 'registry' | 'dryRun' | 'recordDir'> {
  /** `oci:<dir>` (a layout directory) or `oci-archive:<file>` (a tar archive of one). */
  readonly to: string;
}

/** One site that was published (or exported): no error, its digest pushed and tagged. */
export interface PublishedSite {
  readonly site: string;
  readonly repository: string;
  readonly digest: string;
  /** What the site's tag named before (null: nothing). */
  readonly previous: string | null;
  readonly tags: readonly string[];
  readonly files: { readonly public: number; readonly sealed: number };
  /** The tag moved (the digest is not the one it named before). */
  readonly changed: boolean;
  /** False when the site was answered from the last publish without compiling (its inputs did not change). */
  readonly compiled: boolean;
  /** With `publish.cosign_key`: the tag of its cosign signature (`sha256-<hex>.sig`). */
  readonly signature?: string;
  /** The cluster side for Flux's OCIRepository, when the tree holds any: its digest and tag (`<site>-cluster`). */
  readonly cluster?: { readonly digest: string; readonly tag: string };
}

/** A whole run: `publish()`'s result, the sites published and what went over the wire. */
export interface PublishSitesResult extends PublishResult {
  readonly published: readonly PublishedSite[];
  readonly transfer: SinkCounts;
}

/** Options that make no run (a bad registry, layout reference or concurrency): said, nothing done. */
export interface PublishUsageProblem {
  readonly problem: string;
}

/** Publish every site to its registry (`publish.registry`, or `registry`). Never throws for a site's problems. */
export async function publishSites(options: PublishSitesOptions): Promise<PublishSitesResult | PublishUsageProblem> {
  const bad = concurrencyProblem(options.concurrency);
  if (bad) return { problem: bad };
  const stores = await import('./stores.ts');
  if (options.registry !== undefined) {
    const wrong = stores.registryProblem(options.registry);
    if (wrong) return { problem: `--registry ${options.registry}: ${wrong}` };
  }
  const registries = stores.registryTarget({
    insecure: options.insecure === true,
    ...(options.certDir !== undefined ? { certDir: options.certDir } : {}),
    ...(options.onWarning ? { limits: { onWarning: options.onWarning } } : {}),
  });
  // The fleet state is read before any site compiles: a registry that stalls costs a minute, not the request limit.
  const states = stores.registryTarget({
    insecure: options.insecure === true,
    ...(options.certDir !== undefined ? { certDir: options.certDir } : {}),
    limits: { requestTimeoutMs: STATE_REQUEST_MS, ...(options.onWarning ? { onWarning: options.onWarning } : {}) },
  });
  try {
    const result = await publish({ ...options, sinkFor: registries.sinkFor, stateFor: states.sinkFor, remember: true });
    return { ...result, published: publishedSites(result), transfer: sumCounts(registries.counts(), states.counts()) };
  } finally {
    registries.close();
    states.close();
  }
}

/** The time limit of each request for the fleet state (src/publish/fleet-state.ts). */
const STATE_REQUEST_MS = 60_000;

/** Two clients' transfer, together. */
function sumCounts(a: SinkCounts, b: SinkCounts): SinkCounts {
  return {
    blobsUploaded: a.blobsUploaded + b.blobsUploaded,
    blobsSkipped: a.blobsSkipped + b.blobsSkipped,
    blobsMounted: a.blobsMounted + b.blobsMounted,
    bytesUploaded: a.bytesUploaded + b.bytesUploaded,
    manifestsPut: a.manifestsPut + b.manifestsPut,
    requests: a.requests + b.requests,
  };
}

/** Write every site (with `releasesDir`, its release files) into an OCI layout, with the digests `publishSites` gives. */
export async function exportSites(options: ExportSitesOptions): Promise<PublishSitesResult | PublishUsageProblem> {
  const bad = concurrencyProblem(options.concurrency);
  if (bad) return { problem: bad };
  const stores = await import('./stores.ts');
  const layout = stores.layoutTarget(options.to);
  if ('problem' in layout) return { problem: `--to ${options.to}: ${layout.problem}` };
  const { to: _to, ...rest } = options;
  const result = await publish({ ...rest, sinkFor: layout.sinkFor, recordDir: null });
  const transfer = await layout.close(result.ok);
  return { ...result, published: publishedSites(result), transfer };
}

/** The sites of a result that were published: a digest and no error (a failed one is never listed). */
export function publishedSites(result: PublishResult): PublishedSite[] {
  return result.sites.flatMap((s) =>
    s.digest === undefined || s.diagnostics.some((d) => d.severity === 'error')
      ? []
      : [
          {
            site: s.site!,
            repository: s.repository!,
            digest: s.digest,
            previous: s.previous ?? null,
            tags: s.tags ?? [],
            files: s.files ?? { public: 0, sealed: 0 },
            changed: s.previous !== s.digest,
            compiled: s.unchanged !== true,
            ...(s.cosignSignature !== undefined ? { signature: s.cosignSignature } : {}),
            ...(s.cluster !== undefined ? { cluster: s.cluster } : {}),
          },
        ],
  );
}

/** Why `concurrency` (a number, or the text of `--concurrency`) is not a number of uploads at once (undefined: it is, or none was given). */
export function concurrencyProblem(given: number | string | undefined): string | undefined {
  const n = Number(given);
  return given === undefined || (Number.isInteger(n) && n >= 1 && n <= 64)
    ? undefined
    : `--concurrency ${String(given)}: a whole number from 1 to 64`;
}
