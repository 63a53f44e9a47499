// `harvgen publish` (docs/fleet.md): compile each site twice in memory (the committed tree and the
// deploy tree), turn the deploy tree into an OCI artifact (src/publish/artifact.ts: public files as
// they are, secret-bearing ones sealed to the site's key, a signed provenance), push it with its
// release parts to the site's repository, tag it, and record its digest where git keeps it. At
// most three sites in memory (one compiling, two being sent), whatever the number of sites.
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { compileModel, renderModelled } from '../pipeline.ts';
import type { ParseCache } from '../load/index.ts';
import { listSitesForKeys, type KeyFileAnswers } from '../validate/rules/private-keys.ts';
import { LAYOUT } from '../derive/layout.ts';
import { failoverUrls } from '../derive/failover.ts';
import { harvgenVersion } from '../util/version.ts';
import { repoBoundary } from '../load/repo.ts';
import { buildSiteArtifact, jsonBlob, sha256, type SiteArtifact } from './artifact.ts';
import { inputHashes, type Provenance } from './provenance.ts';
import { dirtyProblem, dirtyWarning, siteGit } from './site-git.ts';
import { releaseParts, type ReleaseCache } from './releases.ts';
import { signatureTag } from './cosign.ts';
import { CosignKey } from '../sign/cosign-key.ts';
import { clusterArtifact, clusterTag, type ClusterArtifact } from './cluster.ts';
import { SealKey } from './seal.ts';
import { signProvenance } from './sign.ts';
import { pushSite } from './push.ts';
import { GitChanges, gitPaths, gitPathsWithin } from './git-changes.ts';
import { pruneStates } from './state.ts';
import { headBefore, publishedAnswer, remember, unchanged, type SiteRead } from './remembered.ts';
import { recordText, writeRecord, type FleetRecord } from './record.ts';
import type { Sink } from './sink.ts';
import type { SigningKey } from '../sign/key.ts';
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

const problem = (code: string, message: string, hint: string, file?: string): Diagnostic => ({
  code,
  severity: 'error',
  message,
  hint,
  ...(file !== undefined ? { file } : {}),
});

/** Build one site's artifact (both trees, provenance, signature, release parts): the artifact or the problems. */
export async function siteArtifact(
  dir: string,
  options: Pick<PublishOptions, 'cwd' | 'env' | 'registry' | 'releasesDir' | 'allowDirty'>,
  releaseCache: ReleaseCache = new Map(),
  keyFileAnswers: KeyFileAnswers = new Map(),
  /** This run's answers from git: one `git status` for every site whose inputs settled before it. */
  gitAnswers?: GitChanges,
): Promise<
  | {
      artifact: SiteArtifact;
      record: FleetRecord;
      repository: string;
      commit?: string;
      dirty?: string[];
      diagnostics: Diagnostic[];
      /** What the deploy compile read, and the tracked inputs (the site directory, the files read outside it). */
      read: SiteRead;
      /** `publish.cosign_key`: the key that signs the artifact for cosign, Flux, Kyverno and Harbor. */
      cosign?: CosignKey;
      /** The cluster side for Flux (`src/publish/cluster.ts`), when the tree holds any. */
      cluster?: ClusterArtifact;
      /** The signing key (the fleet state's entry is keyed with it). */
      signing?: SigningKey;
    }
  | { site?: string; diagnostics: Diagnostic[] }
> {
  // The two compiles read the same inventory: YAML parsed once (a parse is reused while its file's
  // stamp holds), and git asked once about the key files (for the whole run).
  const compile = {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    parseCache: new Map() as ParseCache,
    keyFileAnswers,
  };
  const committed = renderModelled(await compileModel(dir, { ...compile, secrets: 'markers' }));
  if (!committed.artifacts) return { ...(committed.site ? { site: committed.site } : {}), diagnostics: [...committed.diagnostics] };
  const modelled = await compileModel(dir, { ...compile, secrets: 'filled', stamps: true });
  const signing = modelled.renderable?.signing;
  const deploy = renderModelled(modelled);
  if (!deploy.artifacts || !deploy.model) return { ...(deploy.site ? { site: deploy.site } : {}), diagnostics: [...deploy.diagnostics] };
  const model = deploy.model;
  const site = model.site;
  const warnings = [...deploy.diagnostics];
  if (!model.publish)
    return {
      site,
      diagnostics: [
        ...warnings,
        problem(
          'PUBLISH_FAILED',
          `${site} has no \`publish:\` section: its boot server would have no pull.json to follow a registry with`,
          'Add `publish: { registry: <host/namespace>, key: { file: secrets/publish-key } }` (and `signing:`) to its site.yaml. docs/fleet.md.',
          join(dir, 'site.yaml'),
        ),
      ],
    };
  if (!signing)
    return {
      site,
      diagnostics: [...warnings, problem('PUBLISH_UNSIGNED', `${site} has no signing key`, 'Add `signing:`. docs/fleet.md.')],
    };
  const cosign = model.publish.cosign ? CosignKey.from(model.publish.cosign.key, model.publish.cosign.publicKey) : undefined;
  if (cosign !== undefined && !(cosign instanceof CosignKey))
    return {
      site,
      diagnostics: [
        ...warnings,
        problem(
          'PUBLISH_COSIGN_KEY',
          `publish.cosign_key of ${site} ${cosign.problem}`,
          'Make a key pair with `openssl genpkey -algorithm ed25519 -out secrets/cosign.key` and `openssl pkey -in secrets/cosign.key -pubout` (its output is `cosign_public_key`). docs/fleet.md, "Signatures other tools check".',
          join(dir, 'site.yaml'),
        ),
      ],
    };
  const releases = options.releasesDir
    ? await releaseParts(model, resolve(options.releasesDir), releaseCache)
    : { parts: [], provenance: [], problems: [], stamps: [] };
  if (releases.problems.length > 0)
    return {
      site,
      diagnostics: [
        ...warnings,
        ...releases.problems.map((p) =>
          problem(
            'PUBLISH_RELEASE_MISSING',
            `release files of ${site}: ${p.message}`,
            p.hint ??
              'Fill the mirror as fetch.sh does (`sh out/<site>/artifacts/fetch.sh` with its target directory), then publish again.',
          ),
        ),
      ],
    };
  const manifest = deploy.artifacts.find((a) => a.path === LAYOUT.manifest)!;
  // The site's own inputs (its directory, the shared layers and link targets it read) and what git says of them.
  const {
    tracked,
    watched: watchedPaths,
    git,
  } = await siteGit(dir, { cwd: options.cwd, sources: Object.keys(deploy.sources), stamps: modelled.inputs?.stamps }, gitAnswers);
  const read = Object.keys(deploy.sources).map((p) => resolve(options.cwd ?? process.cwd(), p));
  if (git?.dirty && !options.allowDirty) return { site, diagnostics: [...warnings, dirtyProblem(site, dir, git)] };
  const root = repoBoundary(resolve(dir)).root;
  const provenance: Provenance = {
    format: 1,
    git: git ? { commit: git.commit, dirty: git.dirty } : null,
    harvgen: harvgenVersion(),
    inputs: inputHashes(read, root),
    manifest_sha256: sha256(Buffer.from(manifest.contents as string, 'utf8')).slice(7),
    releases: releases.provenance,
    serial: git?.serial ?? 0,
    serve: { boot_server: model.boot.server, root: model.nginx.root },
    site,
  };
  const provenanceBytes = jsonBlob(provenance);
  const signed = signProvenance(signing.key, provenanceBytes);
  if ('problem' in signed)
    return {
      site,
      diagnostics: [
        ...warnings,
        problem('SIGNING_FAILED', signed.problem, "Install OpenSSH's ssh-keygen (openssh-client) on the machine that publishes."),
      ],
    };
  const artifact = buildSiteArtifact({
    site,
    committed: committed.artifacts,
    deploy: deploy.artifacts,
    nodes: model.nodes.map((n) => ({ hostname: n.hostname, macs: n.macs })),
    provenance,
    signature: signed.signature,
    key: new SealKey(model.publish.key, site),
    releases: releases.parts,
    ...(git ? { commit: git.commit } : {}),
  });
  const repository = options.registry ? `${options.registry}/${site.toLowerCase()}` : model.publish.repository;
  const cluster = clusterArtifact(site, deploy.artifacts, {
    created: new Date((git?.serial ?? 0) * 1000).toISOString(),
    ...(git ? { revision: git.commit } : {}),
    source: `oci://${repository}`,
  });
  const servers = failoverUrls(model);
  const record: FleetRecord = {
    boot_server: model.boot.server,
    digest: artifact.index.digest,
    repository,
    sample: artifact.sample,
    ...(servers.length > 0 ? { servers } : {}),
    site,
    tag: model.publish.tag,
  };
  const dirty = git?.dirty ? { dirty: git.changed } : {};
  const readInfo: SiteRead = {
    ...(modelled.inputs ? { inputs: modelled.inputs } : {}),
    paths: tracked,
    watched: watchedPaths,
    releases: releases.stamps,
  };
  return {
    artifact,
    record,
    repository,
    ...(git ? { commit: git.commit } : {}),
    ...dirty,
    diagnostics: warnings,
    read: readInfo,
    ...(cosign ? { cosign } : {}),
    ...(cluster ? { cluster } : {}),
    signing: signing.key,
  };
}

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
  readonly built: Extract<Awaited<ReturnType<typeof siteArtifact>>, { artifact: SiteArtifact }>;
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
