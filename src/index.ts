// harvgen's library API: check(), build(), watch(), verify(), pull(), publish() and explain(). The CLI is a thin layer over these. This
// file is the public surface only: the orchestration of a run is in src/orchestrate/, one site through
// the compiler in src/pipeline.ts, watching in src/watch/.

export type { Diagnostic, Severity } from './diagnostics/types.ts';
export { hasFailures, sortDiagnostics } from './diagnostics/types.ts';
export { CODES, type Code } from './diagnostics/codes.ts';
export { formatDiagnostics, formatJson } from './diagnostics/format.ts';
export type { SiteInput, NodeInput, NodeDefaults } from './types/site-input.ts';
export type { SiteModel, ResolvedNode, HarvesterNode, OsNode, IscsiNode, NodeKind } from './model/index.ts';
export type { Artifact, Manifest, ManifestNode } from './render/index.ts';
export type { CompiledSite, CompileOptions, InputsRead } from './pipeline.ts';
export type { MaskedValues } from './util/masked.ts';
export { compileSite } from './pipeline.ts';
export { recoverSite, type RecoveryResult } from './emit/index.ts';
export { discoverSites } from './load/discover.ts';
export { JSON_OUTPUT_VERSION, type JsonOutput, type JsonSite } from './report/envelope.ts';
export { watch, type WatchOptions, type WatchHandle, type WatchEvent } from './watch/index.ts';
export { check, type CheckOnlyOptions, type CheckOptions, type CheckResult, type ProgressEvent } from './orchestrate/check.ts';
export {
  build,
  type BuildOptions,
  type BuildResult,
  type CountedBuildOptions,
  type SiteBuild,
  type SiteBuildCounts,
  type SiteCounts,
} from './orchestrate/build.ts';
export { verify, verifyTree, type VerifyOptions, type VerifyResult, type VerifyServer, type VerifySite } from './verify/index.ts';
export { verifyFleet } from './verify/fleet.ts';
export { STATE_PATH } from './verify/identity.ts';
export type { PublishRunOptions, PublishResult, PublishSite, SinkCounts } from './publish/types.ts';
export {
  publishSites,
  exportSites,
  publishedSites,
  type PublishSitesOptions,
  type ExportSitesOptions,
  type PublishSitesResult,
  type PublishedSite,
  type PublishUsageProblem,
} from './publish/run.ts';
export { explain, type ExplainOptions, type ExplainResult } from './explain/api.ts';
export { formatExplanation, type Explanation, type ExplainedValue } from './explain/index.ts';
export { pull, listVersions, PULL_TIMEOUT_MS } from './pull/api.ts';
export type { PullOptions, PullResult, PullState, PullVerdict, VersionInfo } from './pull/types.ts';
export { status, type StatusOptions, type StatusResult, type NodeStatus, type UnknownMachine, type Verdict } from './status/index.ts';
export { discover, type DiscoverOptions, type DiscoverResult, type DiscoveredMachine } from './status/discover.ts';
export { measureFacts, COLLECTOR_SCRIPT, type FactsOptions, type FactsResult, type MachineFacts } from './measure/index.ts';
export type { MeasuredFacts, MeasuredDisk, MeasuredNic, MachineIdentity, Measurement } from './facts/types.ts';
