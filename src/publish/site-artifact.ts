// One site's artifact for `harvgen publish` (docs/fleet.md), in steps: its two compiles (the
// committed tree and the deploy tree), its publish settings and keys, its release parts, what git
// says of its inputs, its signed provenance, then the artifact with its fleet record. Each step
// answers what it made or the site's problems (SiteRefused); src/publish/index.ts sends the site.
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { compileModel, renderModelled, type InputsRead } from '../pipeline.ts';
import type { ParseCache } from '../load/index.ts';
import type { KeyFileAnswers } from '../validate/rules/private-keys.ts';
import type { Artifact } from '../render/index.ts';
import type { SiteModel, SitePublish } from '../model/index.ts';
import type { Signing } from '../sign/index.ts';
import type { SigningKey } from '../sign/key.ts';
import { LAYOUT } from '../derive/layout.ts';
import { failoverUrls } from '../derive/failover.ts';
import { harvgenVersion } from '../util/version.ts';
import { repoBoundary } from '../load/repo.ts';
import { buildSiteArtifact, jsonBlob, sha256, type SiteArtifact } from './artifact.ts';
import { inputHashes, type Provenance } from './provenance.ts';
import { dirtyProblem, siteGit, type SiteGit } from './site-git.ts';
import { releaseParts, type ReleaseCache } from './releases.ts';
import { CosignKey } from '../sign/cosign-key.ts';
import { clusterArtifact, type ClusterArtifact } from './cluster.ts';
import { SealKey } from './seal.ts';
import { signProvenance } from './sign.ts';
import type { GitChanges } from './git-changes.ts';
import type { SiteRead } from './remembered.ts';
import type { FleetRecord } from './record.ts';
import { problem } from './problem.ts';
import type { PublishRunOptions } from './types.ts';

/** A site built into its artifact, with what publish sends, records and remembers of it. */
export interface BuiltSite {
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

/** A site that was not built: its problems, and its name when the inventory got that far. */
export interface SiteRefused {
  site?: string;
  diagnostics: Diagnostic[];
}

/** What siteArtifact reads of a run's options. */
export type SiteArtifactOptions = Pick<PublishRunOptions, 'cwd' | 'env' | 'registry' | 'releasesDir' | 'allowDirty'>;

/** Build one site's artifact (both trees, provenance, signature, release parts): the artifact or the problems. */
export async function siteArtifact(
  dir: string,
  options: SiteArtifactOptions,
  releaseCache: ReleaseCache = new Map(),
  keyFileAnswers: KeyFileAnswers = new Map(),
  /** This run's answers from git: one `git status` for every site whose inputs settled before it. */
  gitAnswers?: GitChanges,
): Promise<BuiltSite | SiteRefused> {
  const job: Job = { dir, options, releaseCache, keyFileAnswers, gitAnswers };
  const trees = await compileTrees(job);
  if ('diagnostics' in trees) return trees;
  const keys = publishKeys(job, trees);
  if ('diagnostics' in keys) return keys;
  const releases = await siteReleases(job, trees);
  if ('diagnostics' in releases) return releases;
  const inputs = await siteInputs(job, trees);
  if ('diagnostics' in inputs) return inputs;
  const made = { trees, keys, releases, inputs };
  const signed = signedProvenance(job, made);
  if ('diagnostics' in signed) return signed;
  return builtSite(job, { ...made, signed });
}

/** What siteArtifact was asked: the site, the run's options and what the run's sites share. */
interface Job {
  readonly dir: string;
  readonly options: SiteArtifactOptions;
  readonly releaseCache: ReleaseCache;
  readonly keyFileAnswers: KeyFileAnswers;
  readonly gitAnswers: GitChanges | undefined;
}

/** The site's two trees, and what its deploy compile read, found and signs its manifest with. */
interface Trees {
  readonly committed: readonly Artifact[];
  readonly deploy: readonly Artifact[];
  readonly model: SiteModel;
  /** The deploy compile's source texts by displayed path. */
  readonly sources: Readonly<Record<string, string>>;
  readonly inputs: InputsRead | undefined;
  readonly signing: Signing | undefined;
  /** The deploy compile's diagnostics: warnings only, since it rendered. */
  readonly warnings: Diagnostic[];
}

/** A published site's settings and keys: `publish:`, its signing key, and its cosign key when it names one. */
interface Keys {
  readonly publish: SitePublish;
  readonly signing: Signing;
  readonly cosign: CosignKey | undefined;
}

/** The release parts of the site, with what its provenance says of them and the stamps of the files read. */
type Releases = Awaited<ReturnType<typeof releaseParts>>;

/** What git says of the site's inputs (src/publish/site-git.ts), and every source file the deploy compile read. */
interface Inputs extends SiteGit {
  readonly read: string[];
}

/** The site's provenance and its signature with the site's signing key. */
interface Signed {
  readonly provenance: Provenance;
  readonly signature: string;
}

/** What the steps before the provenance made of the site. */
interface Made {
  readonly trees: Trees;
  readonly keys: Keys;
  readonly releases: Releases;
  readonly inputs: Inputs;
}

/** A refused site: the diagnostics so far and the problems, under its name when known. */
const refused = (site: string | undefined, diagnostics: readonly Diagnostic[], ...problems: Diagnostic[]): SiteRefused => ({
  ...(site ? { site } : {}),
  diagnostics: [...diagnostics, ...problems],
});

/**
 * The site compiled twice, the committed tree and the deploy tree. The two compiles read the same
 * inventory: YAML parsed once (a parse is reused while its file's stamp holds), and git asked once
 * about the key files (for the whole run).
 */
async function compileTrees({ dir, options, keyFileAnswers }: Job): Promise<Trees | SiteRefused> {
  const compile = {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    parseCache: new Map() as ParseCache,
    keyFileAnswers,
  };
  const committed = renderModelled(await compileModel(dir, { ...compile, secrets: 'markers' }));
  if (!committed.artifacts) return refused(committed.site, committed.diagnostics);
  const modelled = await compileModel(dir, { ...compile, secrets: 'filled', stamps: true });
  const signing = modelled.renderable?.signing;
  const deploy = renderModelled(modelled);
  if (!deploy.artifacts || !deploy.model) return refused(deploy.site, deploy.diagnostics);
  return {
    committed: committed.artifacts,
    deploy: deploy.artifacts,
    model: deploy.model,
    sources: deploy.sources,
    inputs: modelled.inputs,
    signing,
    warnings: [...deploy.diagnostics],
  };
}

/** The site's `publish:` settings and keys, or why it cannot be published. */
function publishKeys({ dir }: Job, { model, signing, warnings }: Trees): Keys | SiteRefused {
  const site = model.site;
  if (!model.publish)
    return refused(
      site,
      warnings,
      problem(
        'PUBLISH_FAILED',
        `${site} has no \`publish:\` section: its boot server would have no pull.json to follow a registry with`,
        'Add `publish: { registry: <host/namespace>, key: { file: secrets/publish-key } }` (and `signing:`) to its site.yaml. docs/fleet.md.',
        join(dir, 'site.yaml'),
      ),
    );
  if (!signing) return refused(site, warnings, problem('PUBLISH_UNSIGNED', `${site} has no signing key`, 'Add `signing:`. docs/fleet.md.'));
  const cosign = model.publish.cosign ? CosignKey.from(model.publish.cosign.key, model.publish.cosign.publicKey) : undefined;
  if (cosign !== undefined && !(cosign instanceof CosignKey))
    return refused(
      site,
      warnings,
      problem(
        'PUBLISH_COSIGN_KEY',
        `publish.cosign_key of ${site} ${cosign.problem}`,
        'Make a key pair with `openssl genpkey -algorithm ed25519 -out secrets/cosign.key` and `openssl pkey -in secrets/cosign.key -pubout` (its output is `cosign_public_key`). docs/fleet.md, "Signatures other tools check".',
        join(dir, 'site.yaml'),
      ),
    );
  return { publish: model.publish, signing, cosign };
}

/** The release parts the site boots, from the mirror `--releases` names (none without it), or the files missing there. */
async function siteReleases({ options, releaseCache }: Job, { model, warnings }: Trees): Promise<Releases | SiteRefused> {
  const releases = options.releasesDir
    ? await releaseParts(model, resolve(options.releasesDir), releaseCache)
    : { parts: [], provenance: [], problems: [], stamps: [] };
  if (releases.problems.length === 0) return releases;
  return refused(
    model.site,
    warnings,
    ...releases.problems.map((p) =>
      problem(
        'PUBLISH_RELEASE_MISSING',
        `release files of ${model.site}: ${p.message}`,
        p.hint ?? 'Fill the mirror as fetch.sh does (`sh out/<site>/artifacts/fetch.sh` with its target directory), then publish again.',
      ),
    ),
  );
}

/** The site's own inputs (its directory, the shared layers and link targets it read) and what git says of them; PUBLISH_DIRTY without `allowDirty`. */
async function siteInputs({ dir, options, gitAnswers }: Job, { model, sources, inputs, warnings }: Trees): Promise<Inputs | SiteRefused> {
  const { tracked, watched, git } = await siteGit(
    dir,
    { cwd: options.cwd, sources: Object.keys(sources), stamps: inputs?.stamps },
    gitAnswers,
  );
  const read = Object.keys(sources).map((p) => resolve(options.cwd ?? process.cwd(), p));
  if (git?.dirty && !options.allowDirty) return refused(model.site, warnings, dirtyProblem(model.site, dir, git));
  return { tracked, watched, git, read };
}

/** The site's provenance (what it was built from and where it is served), signed with its signing key. */
function signedProvenance({ dir }: Job, { trees, keys, releases, inputs }: Made): Signed | SiteRefused {
  const { model, warnings } = trees;
  const site = model.site;
  const git = inputs.git;
  const manifest = trees.deploy.find((a) => a.path === LAYOUT.manifest)!;
  const root = repoBoundary(resolve(dir)).root;
  const provenance: Provenance = {
    format: 1,
    git: git ? { commit: git.commit, dirty: git.dirty } : null,
    harvgen: harvgenVersion(),
    inputs: inputHashes(inputs.read, root),
    manifest_sha256: sha256(Buffer.from(manifest.contents as string, 'utf8')).slice(7),
    releases: releases.provenance,
    serial: git?.serial ?? 0,
    serve: { boot_server: model.boot.server, root: model.nginx.root },
    site,
  };
  const signed = signProvenance(keys.signing.key, jsonBlob(provenance));
  if ('problem' in signed)
    return refused(
      site,
      warnings,
      problem('SIGNING_FAILED', signed.problem, "Install OpenSSH's ssh-keygen (openssh-client) on the machine that publishes."),
    );
  return { provenance, signature: signed.signature };
}

/** The site built: its artifact, its cluster side, its fleet record and what it read. */
function builtSite({ options }: Job, { trees, keys, releases, inputs, signed }: Made & { readonly signed: Signed }): BuiltSite {
  const { model } = trees;
  const site = model.site;
  const git = inputs.git;
  const artifact = buildSiteArtifact({
    site,
    committed: trees.committed,
    deploy: trees.deploy,
    nodes: model.nodes.map((n) => ({ hostname: n.hostname, macs: n.macs })),
    provenance: signed.provenance,
    signature: signed.signature,
    key: new SealKey(keys.publish.key, site),
    releases: releases.parts,
    ...(git ? { commit: git.commit } : {}),
  });
  const repository = options.registry ? `${options.registry}/${site.toLowerCase()}` : keys.publish.repository;
  const cluster = clusterArtifact(site, trees.deploy, {
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
    tag: keys.publish.tag,
  };
  return {
    artifact,
    record,
    repository,
    ...(git ? { commit: git.commit } : {}),
    ...(git?.dirty ? { dirty: git.changed } : {}),
    diagnostics: trees.warnings,
    read: {
      ...(trees.inputs ? { inputs: trees.inputs } : {}),
      paths: inputs.tracked,
      watched: inputs.watched,
      releases: releases.stamps,
    },
    ...(keys.cosign ? { cosign: keys.cosign } : {}),
    ...(cluster ? { cluster } : {}),
    signing: keys.signing.key,
  };
}
