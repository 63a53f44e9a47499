// `harvgen publish` (docs/fleet.md): compile each site twice in memory (the committed tree and the
// deploy tree, src/publish/site-artifact.ts), turn the deploy tree into an OCI artifact
// (src/publish/artifact.ts: public files as they are, secret-bearing ones sealed to the site's
// key, a signed provenance), push it with its release parts to the site's repository, tag it, and
// record its digest where git keeps it. At most three sites in memory (one compiling, two being
// sent), whatever the number of sites.
import { resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { listSitesForKeys, type KeyFileAnswers } from '../validate/rules/private-keys.ts';
import { repoBoundary } from '../load/repo.ts';
import { dirtyWarning } from './site-git.ts';
import type { ReleaseCache } from './releases.ts';
import { signatureTag } from './cosign.ts';
import { clusterTag } from './cluster.ts';
import { pushSite } from './push.ts';
import { GitChanges, gitPaths, gitPathsWithin } from './git-changes.ts';
import { pruneStates } from './state.ts';
import { headBefore, publishedAnswer, remember, unchanged } from './remembered.ts';
import { recordText, writeRecord, type FleetRecord } from './record.ts';
import type { Sink } from './sink.ts';
import { problem } from './problem.ts';
import { siteArtifact, type BuiltSite } from './site-artifact.ts';
import {
  answerFromState,
  entryDigest,
  FLEET_STATE_REPOSITORY,
  FleetStates,
  makeEntry,
  namespaceOf,
  recordedStates,
  stateStore,
} from './fleet-state.ts';

export { MEDIA, ANNOTATION } from './media.ts';
export { SealKey, SealError } from './seal.ts';
export type { SiteArtifact } from './artifact.ts';
export type { Sink, Source, SinkCounts } from './sink.ts';
export { writeRecord, type FleetRecord } from './record.ts';
export { siteArtifact, type BuiltSite, type SiteRefused } from './site-artifact.ts';

import type { PublishRunOptions, PublishResult, PublishSite } from './types.ts';
export type { PublishRunOptions, PublishResult, PublishSite } from './types.ts';

/** `publish()`'s options: a run's, and where each repository is written. */
export interface PublishOptions extends PublishRunOptions {
  /** The sink of a repository (`host[:port]/path`). */
  readonly sinkFor: (repository: string) => Sink;
  /**
   * Remember each site published (src/publish/state.ts) and answer a site whose inputs did not
   * change from that, without compiling it, once the registry's tag still names its digest
   * (publish to a registry; never export). `force` turns the answering off.
   */
  readonly remember?: boolean;
  /**
   * With `remember`: read and write the registry's fleet state (src/publish/fleet-state.ts), one
   * artifact per namespace that answers unchanged sites on any machine without a request per site
   * (default true; false: this machine's state alone, and the registry's tag of each site).
   */
  readonly fleetState?: boolean;
  /** The fleet state's repository, when not `sinkFor`'s (publishSites: a client with a shorter time limit). */
  readonly stateFor?: (repository: string) => Sink;
}

/** Publish every site; never throws for a site's problems or a registry's answers. */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  const started = performance.now();
  const sites: PublishSite[] = [];
  const releaseCache: ReleaseCache = new Map();
  const keyFileAnswers: KeyFileAnswers = new Map();
  keyAnswersForSites(options, keyFileAnswers);
  const git = new GitChanges(undefined, options.sites.length);
  if (options.remember) pruneStates();
  // The registry's fleet state (src/publish/fleet-state.ts): read once per namespace, written once.
  const states =
    options.remember && options.recordDir !== null && options.fleetState !== false
      ? new FleetStates((ns) => stateStore((options.stateFor ?? options.sinkFor)(`${ns}/${FLEET_STATE_REPOSITORY}`)))
      : undefined;
  if (states && !options.force) {
    const recorded = recordedStates(recordDirOf(options), options.registry);
    states.load(recorded.namespaces, recorded.named, recorded.records);
  }
  // In two stages: the next site compiles while the last SENDING sites' artifacts are sent (the
  // registry works while harvgen computes). At most SENDING + 1 sites in memory; results in order.
  const sending: Promise<PublishSite>[] = [];
  for (const dir of options.sites) {
    const prepared = await prepareOne(dir, options, releaseCache, git, keyFileAnswers, states).catch((e: unknown) => failed(dir, e));
    sending.push(
      'built' in prepared
        ? shipOne(prepared, options, states, git).catch((e: unknown) => failed(prepared.dir, e))
        : Promise.resolve(prepared),
    );
    while (sending.length > SENDING) sites.push(await sending.shift()!);
  }
  for (const p of sending) sites.push(await p);
  const saved = states && !options.dryRun ? await states.save() : [];
  const diagnostics = [...sites.flatMap((s) => s.diagnostics), ...saved];
  return { ok: !diagnostics.some((d) => d.severity === 'error'), sites, diagnostics, durationMs: Math.round(performance.now() - started) };
}

/** What git says of the key files under the sites' common directory, asked once for the run (listSitesForKeys). */
function keyAnswersForSites(options: PublishOptions, answers: KeyFileAnswers): void {
  if (options.sites.length < 2) return;
  const boundaries = options.sites.map((d) => repoBoundary(resolve(d)));
  const root = boundaries[0]!;
  if (root.kind !== 'git') return;
  listSitesForKeys(
    root.root,
    boundaries.filter((b) => b.kind === 'git' && b.root === root.root).map((b) => b.site),
    answers,
  );
}

/** Where the run's fleet records are (`published/` unless told). */
const recordDirOf = (options: Pick<PublishOptions, 'cwd' | 'recordDir'>) =>
  resolve(options.cwd ?? process.cwd(), options.recordDir ?? 'published');

/** Sites sent at once while the next one compiles. */
const SENDING = 2;

/** A site whose compile or push threw: its diagnostic. */
const failed = (dir: string, e: unknown): PublishSite => ({
  dir,
  diagnostics: [problem('PUBLISH_FAILED', `${dir}: ${(e as Error).message}`, 'Run again with --debug and report it if it persists.')],
});

/** The tags of a published site: `<site>`, and `<site>-<commit>` (with uncommitted changes `<site>-<commit>-dirty-<digest>`). */
export function publishTags(tag: string, digest: string, commit?: string, dirty?: readonly string[]): string[] {
  if (commit === undefined) return [tag];
  const pinned = `${tag}-${commit.slice(0, 12)}`;
  return [tag, dirty !== undefined ? `${pinned}-dirty-${digest.replace(/^sha256:/, '').slice(0, 12)}` : pinned];
}

/** A site compiled into its artifact, ready to be sent. */
interface Prepared {
  readonly dir: string;
  readonly head: ReturnType<typeof headBefore>;
  readonly built: BuiltSite;
}

/** A site answered from its last publish, or its problems, or its artifact to send. */
async function prepareOne(
  dir: string,
  options: PublishOptions,
  releaseCache: ReleaseCache,
  git: GitChanges,
  keyFileAnswers: KeyFileAnswers,
  states: FleetStates | undefined,
): Promise<PublishSite | Prepared> {
  // HEAD before the site is compiled: a commit made meanwhile falls in the next run's range.
  const head = options.remember ? headBefore(dir, git) : undefined;
  if (states && !options.force) {
    // The registry's fleet state first: no request of the site's own.
    const answered = await answerFromState(dir, states, options, git);
    if (answered) return answered;
  }
  if (options.remember && !options.force) {
    const answered = await unchanged(dir, options, git);
    if (answered) return answered;
  }
  let built;
  try {
    built = await siteArtifact(dir, options, releaseCache, keyFileAnswers, git);
  } catch (e) {
    return failed(dir, e);
  }
  if (!('artifact' in built)) return { dir, ...(built.site ? { site: built.site } : {}), diagnostics: built.diagnostics };
  return { dir, head, built };
}

/** Push a prepared site, tag it, record it and remember it. */
async function shipOne(
  { dir, head, built }: Prepared,
  options: PublishOptions,
  states: FleetStates | undefined,
  git: GitChanges,
): Promise<PublishSite> {
  const { artifact, repository } = built;
  const tags = publishTags(built.record.tag, artifact.index.digest, built.commit, built.dirty);
  const dirty = built.dirty ? dirtyWarning(artifact.site, tags, built.dirty) : undefined;
  const diagnostics = dirty ? [...built.diagnostics, dirty] : built.diagnostics;
  // The fleet state's entry, named by the record (a dirty or partly read site has none).
  const entry = states && head ? stateEntry(dir, options, git, head, built, tags, diagnostics) : undefined;
  const record = entry !== undefined ? withState(built.record, entryDigest(entry)) : built.record;
  const sink = options.sinkFor(repository);
  const releasesRepo = repository.replace(/\/[^/]+$/, '/releases');
  const base = {
    dir,
    site: artifact.site,
    repository,
    digest: artifact.index.digest,
    tags,
    files: { public: artifact.counts.public, sealed: artifact.counts.sealed },
    nodes: artifact.counts.nodes,
    ...(built.dirty ? { dirty: built.dirty } : {}),
    ...(built.cosign ? { cosignSignature: signatureTag(artifact.index.digest) } : {}),
    ...(built.cluster ? { cluster: { digest: built.cluster.manifest.digest, tag: clusterTag(artifact.site) } } : {}),
  };
  try {
    const previous = await sink.resolveTag(record.tag);
    if (!options.dryRun) {
      await pushSite(
        artifact,
        sink,
        artifact.releases.length > 0 ? options.sinkFor(releasesRepo) : undefined,
        tags,
        options.concurrency ?? 8,
        previous === undefined,
        built.cosign && { key: built.cosign, repository },
        built.cluster && { artifact: built.cluster, tag: clusterTag(artifact.site) },
      );
      if (options.recordDir !== null) writeRecord(recordDirOf(options), record);
      if (options.remember) remember(dir, options, head, { ...built, record }, tags, diagnostics);
      states?.set(namespaceOf(repository), artifact.site, entry ?? null);
    }
    return { ...base, ...(previous !== undefined ? { previous } : {}), diagnostics };
  } catch (e) {
    return {
      ...base,
      diagnostics: [
        ...diagnostics,
        problem(
          'PUBLISH_FAILED',
          `publishing ${artifact.site} to ${repository}: ${(e as Error).message}`,
          plainHttp(e)
            ? 'The registry answered TLS with plain HTTP: for a lab registry on a trusted network, run again with --insecure; otherwise give its HTTPS address. The tag was not moved, so the boot server keeps what it serves.'
            : 'Check the registry address, your credentials (`docker login`/`skopeo login`) and its CA; the tag was not moved, so the boot server keeps what it serves.',
        ),
      ],
    };
  }
}

/** Whether an error is OpenSSL reading a plain HTTP answer as TLS (a registry without TLS, asked over https). */
function plainHttp(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const text = `${err.code ?? ''} ${err.message ?? ''} ${err.cause?.code ?? ''} ${err.cause?.message ?? ''}`;
  return /wrong version number|ERR_SSL_WRONG_VERSION_NUMBER|packet length too long|http request/i.test(text);
}

/** The record naming its site's fleet state entry (`state`, in the record's key order). */
function withState(record: FleetRecord, state: string): FleetRecord {
  const { tag, ...rest } = record;
  return { ...rest, state, tag };
}

/** A clean, wholly read site's entry in the fleet state (src/publish/fleet-state.ts), or undefined. */
function stateEntry(
  dir: string,
  options: PublishOptions,
  git: GitChanges,
  at: { top: string; head: string },
  built: Prepared['built'],
  tags: readonly string[],
  diagnostics: readonly Diagnostic[],
): string | undefined {
  const inputs = built.read.inputs;
  if (built.dirty || !inputs?.complete || built.signing === undefined) return undefined;
  // The tracked inputs, and every file looked for and not found (a layer made later is a change).
  const absent = inputs.stamps.filter((s) => s[1] === -1).map((s) => s[0]);
  const paths = gitPaths(at.top, [...built.read.paths, ...absent], true);
  if (paths === undefined) return undefined;
  return makeEntry({
    dir,
    site: built.artifact.site,
    at,
    options,
    git,
    record: recordText(built.record),
    signing: built.signing,
    inputs: inputs.stamps,
    envNames: (inputs.env ?? []).map(([name]) => name),
    paths,
    watched: gitPathsWithin(at.top, built.read.watched),
    releases: built.read.releases,
    published: publishedAnswer(built, tags, diagnostics),
  });
}
