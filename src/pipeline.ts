// One site through the compiler, in memory, in two passes. Used by check, build and watch (via
// src/orchestrate/). Unexpected exceptions become an INTERNAL_ERROR diagnostic (with the stack in
// `detail` for --debug), never a crash.
//
// The data between the passes, all plain values:
//
//   compileModel(dir, options) -> ModelledSite    pass 1: load, secrets (and the signing key of a
//                                                 deploy build, checked against its public key),
//                                                 validation, model, and the input files the
//                                                 model names (src/inputs/)
//     ModelledSite.renderable?: Renderable        what pass 2 needs (model, locator, input files,
//                                                 tree kind, render cache); present exactly when
//                                                 nothing so far stops the site from rendering
//   renderModelled(site) -> CompiledSite          pass 2: render (pure), then for a deploy build
//                                                 with `signing:` the signature of manifest.json
//                                                 (src/sign/); the diagnostics it adds are masked
//                                                 like the others
//   compileSite(dir, options)                     both, back to back (check, the library API)
//
// What both carry (SiteBase): the diagnostics and source texts, already masked; `masked`, the
// values to mask in anything else printed about the site (MaskedValues, src/util/masked.ts: a
// field JSON.stringify leaves out, so a serialized site never holds them); `inputs`, the stamps
// of what was read (InputsRead: `complete` when they cover every input, which the up-to-date
// check needs before it may skip the site later; watch watches their paths either way).
//
// build() runs pass 1 for every site (the checks between sites need every model), then pass 2
// one site at a time, writing each and letting its files go, so that only one site's files are
// in memory at once.
import { join, resolve } from 'node:path';
import { lstatOrUndefined } from './util/lstat.ts';
import type { Diagnostic } from './diagnostics/types.ts';
import { readInputFiles, type InputFiles } from './inputs/index.ts';
import { loadSite, type LoadedSite, type Locator, type ParseCache, type SourceFile } from './load/index.ts';
import { configBlockSecrets, resolveSecrets, secretRoot, type SecretResolution } from './load/secrets.ts';
import { maskDiagnostics, maskSources, MIN_REDACTED } from './load/mask.ts';
import type { InputStamp } from './load/stamps.ts';
import { envDigests } from './cache/env.ts';
import { renderedNodes, reusableRender, type RenderedNodes } from './cache/reuse.ts';
import type { SiteModel } from './model/index.ts';
import { Spill, type StagingScope } from './render/spill.ts';
import { renderCache, renderSite, type Artifact, type RenderCache } from './render/index.ts';
import { checkSigningKey, resolveSigningKey, signManifest, type Signing } from './sign/index.ts';
import { MaskedValues } from './util/masked.ts';
import { validateSite } from './validate/index.ts';
import { privateKeyFindings, type KeyFileAnswers } from './validate/rules/private-keys.ts';
import type { SecretMode } from './types/secret-mode.ts';
import { nextTask } from './util/next-task.ts';

export { MIN_REDACTED } from './load/mask.ts';

/** What a compile read, each file and directory stamped before it was read. */
export interface InputsRead {
  /** Every file read and directory listed, as far as compiling got. */
  readonly stamps: readonly InputStamp[];
  /**
   * The stamps cover everything the site's files are made of: compiling got past every reader
   * (inventory, secrets, validation, input files) and no secret came from the environment, which
   * no stamp covers, unless `env` holds its digest. Only then may the up-to-date check record
   * the site as clean.
   */
  readonly complete: boolean;
  /** `[variable, keyed digest]` of each secret read from the environment (src/cache/env.ts). */
  readonly env?: readonly (readonly [name: string, digest: string])[];
}

/** What a site carries after either pass. */
interface SiteBase {
  /** The site directory as given. */
  readonly dir: string;
  /** `site:` name (when the inventory got that far). */
  readonly site?: string;
  /** The resolved model, when validation got that far (even when a rule then found an error). */
  readonly model?: SiteModel;
  /** Every problem found so far, masked. */
  readonly diagnostics: readonly Diagnostic[];
  /** Maps inventory paths to file positions (for checks across sites). */
  readonly locate?: Locator;
  /** Text of every loaded file by displayed path (for code frames), masked. */
  readonly sources: Readonly<Record<string, string>>;
  /** The values to mask in anything else printed about the site (never serialized). */
  readonly masked: MaskedValues;
  /** With `CompileOptions.stamps`, once load found the site: what was read. */
  readonly inputs?: InputsRead;
}

/** What rendering a site needs, carried from the first pass to the second. */
export interface Renderable {
  readonly model: SiteModel;
  readonly locate: Locator;
  /** The iPXE binaries and user-data texts read after validation. */
  readonly files: Pick<InputFiles, 'binaries' | 'userData' | 'mediaLoaders'>;
  /** The committed tree (`markers`) or the deploy tree (`filled`). */
  readonly secrets: SecretMode;
  /** Rendered nodes to reuse (watch), the site's own. */
  readonly cache?: RenderCache;
  /**
   * A plain build without watch's cache: the real output root and the site directory whose
   * up-to-date record's rendered nodes the render reuses (src/cache/reuse.ts), and records anew.
   */
  readonly reuse?: { readonly outRoot: string; readonly siteDir: string };
  /** A build that writes: the real output root, where a large site's texts wait for emit (src/render/spill.ts). */
  readonly spillTo?: string;
  /** With `spillTo`: the build's first builds (CompileOptions.staging). */
  readonly staging?: StagingScope;
  /** A deploy build of a site with `signing:`: the key, checked against its public key (src/sign/). */
  readonly signing?: Signing;
}

/** A site after the first pass. */
export interface ModelledSite extends SiteBase {
  /** Present exactly when the site can be rendered: no error so far. */
  readonly renderable?: Renderable;
}

/** Everything known about one site after compiling it in memory (both passes). */
export interface CompiledSite extends SiteBase {
  /**
   * Rendered files; present only when there were no errors (build's result lets them go once the
   * site is written, unless `keepArtifacts`).
   */
  readonly artifacts?: readonly Artifact[];
  /** With `artifacts`, in a plain build: what each node's render gave, for the up-to-date record (src/cache/reuse.ts). */
  readonly rendered?: RenderedNodes;
}

/** Options shared by check and build. */
export interface CompileOptions {
  /** false: leave the site's facts files out (`harvgen facts`, which replaces them). */
  readonly measured?: boolean;
  /** Directory paths are resolved and displayed against (default process.cwd()). */
  readonly cwd?: string;
  /** Environment for `{ env: NAME }` secrets (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * `markers` (default): the committed tree; secret references are not read and every secret is
   * written as its marker (`SECRET_MARKERS`). `filled`: the deploy tree; secrets are read (a
   * missing one is an error) and written.
   */
  readonly secrets?: SecretMode;
  /** Record input stamps (build's up-to-date check, watch). */
  readonly stamps?: boolean;
  /** Parses to reuse across compiles of unchanged files (watch). */
  readonly parseCache?: ParseCache;
  /** Rendered nodes to reuse across compiles, one RenderCache per absolute site directory (watch). */
  readonly renderCaches?: Map<string, RenderCache>;
  /**
   * The real path of the output root a plain build writes: each node whose render is recorded
   * there and unchanged is not rendered again (src/cache/reuse.ts). Not with `renderCaches`.
   */
  readonly reuseOutput?: string;
  /**
   * The real path of the output root a build writes (not --check, --dry-run or watch): a large
   * site's texts are set aside there while it renders (src/render/spill.ts).
   */
  readonly spillTo?: string;
  /**
   * With `spillTo`: a site rendered while `staging.writing` whose directory there is not there yet
   * (its first build) has its texts written straight into its staging directory (Spill.staged),
   * and its spill is added to the scope; the build discards each one no emit adopted when it ends.
   * Otherwise texts are set aside as above.
   */
  readonly staging?: StagingScope;
  /**
   * git's answers about private key files (src/validate/rules/private-keys.ts), kept for one run:
   * publish's two compiles of a site, and sites that share a key file, ask git once.
   */
  readonly keyFileAnswers?: KeyFileAnswers;
}

/**
 * The values a compiled site masks in everything it prints (`explain` and the CLI's diffs mask
 * theirs with them).
 */
export function siteSecretValues(site: { readonly masked: MaskedValues }): readonly string[] {
  return site.masked.values;
}

/** Compile one site directory without touching the output: both passes. */
export async function compileSite(dir: string, options: CompileOptions = {}): Promise<CompiledSite> {
  return renderModelled(await compileModel(dir, options));
}

/** The first pass: load, secrets, validation, model, input files. */
export async function compileModel(dir: string, options: CompileOptions = {}): Promise<ModelledSite> {
  // In a task of its own: what the last site's task kept alive for its WeakRefs is let go (src/util/next-task.ts).
  await nextTask();
  const sources: Record<string, string> = {};
  let files: readonly SourceFile[] = [];
  let secrets: readonly string[] = [];
  let stamps: readonly InputStamp[] | undefined;
  // No secret reaches printed output: not in messages, hints, details or code frames. The
  // source texts are masked once, by range (every value written at a `token` or `password`
  // key, whatever its style: `maskSpans`) and by value (the secrets and their escaped forms,
  // wherever else they were written), also for files that failed before secrets were resolved.
  const done = (
    site: Omit<ModelledSite, 'masked' | 'sources' | 'inputs'>,
    complete = false,
    env: readonly (readonly [string, string])[] = [],
  ): ModelledSite => {
    const masked = new MaskedValues(maskSources(sources, files, secrets));
    return {
      ...site,
      diagnostics: maskDiagnostics(site.diagnostics, masked),
      sources,
      masked,
      ...(stamps ? { inputs: { stamps, complete, ...(env.length > 0 ? { env } : {}) } } : {}),
    };
  };
  try {
    const loaded = await loadSite(dir, { ...options, stamps: options.stamps === true });
    // Every file read, also one that failed to parse: its YAML error gets a code frame too.
    Object.assign(sources, loaded.sources);
    files = loaded.files;
    stamps = loaded.stamps;
    const site = typeof loaded.input?.site === 'string' ? loaded.input.site : undefined;
    if (!loaded.input || loaded.diagnostics.length > 0) {
      return done({ dir, ...(site ? { site } : {}), diagnostics: loaded.diagnostics });
    }
    const mode = options.secrets ?? 'markers';
    const { resolved, signingKey } = await siteSecrets(loaded, options, mode);
    if (stamps) stamps = [...stamps, ...resolved.stamps, ...signingKey.stamps];
    // Secrets under `config:` of a shared layer (sites/_defaults.yaml, a profile) too.
    const layered = [loaded.layers.repo, ...Object.values(loaded.layers.profiles)].flatMap((l) => configBlockSecrets(l?.config));
    secrets = [...resolved.secrets, ...layered, ...signingKey.masked].filter((s) => s.length >= MIN_REDACTED);
    const base0 = { dir, ...(site ? { site } : {}), locate: loaded.locate };
    const cache = watchCache(options, loaded.dir);
    const layers = options.measured === false ? { ...loaded.layers, measured: undefined } : loaded.layers;
    const validated = validateSite(resolved.input, loaded.locate, layers, cache?.model);
    const base = { ...base0, ...(validated.model ? { model: validated.model } : {}) };
    // Private key files git tracks or does not ignore (one git call per compile).
    const keys = privateKeyFindings(loaded.input, loaded.locate, options.cwd ?? process.cwd(), loaded.repo, options.keyFileAnswers);
    const checked = [...resolved.diagnostics, ...signingKey.diagnostics, ...validated.diagnostics, ...keys];
    if (!validated.model || checked.some((d) => d.severity === 'error')) {
      return done({ ...base, diagnostics: checked });
    }
    const model = validated.model;
    const publicKey = (resolved.input.signing as { public_key?: unknown } | undefined)?.public_key;
    const signing = signingKey.key && typeof publicKey === 'string' ? { key: signingKey.key, publicKey } : undefined;
    if (signing) {
      const keyProblems = checkSigningKey(signing, loaded.locate);
      if (keyProblems.length > 0) return done({ ...base, diagnostics: [...checked, ...keyProblems] });
    }
    // Files the tree copies from outside the inventory (iPXE binaries, cloud-init user-data
    // files): read once per compile, stamped like inputs.
    const read = readInputFiles(model, loaded.dir, loaded.locate, loaded.repo);
    if (stamps) stamps = [...stamps, ...read.stamps];
    if (read.diagnostics.length > 0) return done({ ...base, diagnostics: [...checked, ...read.diagnostics] });
    const renderable = renderableOf({ model, loaded, read, mode, cache, signing, dir, options });
    const { complete, env } = envCoverage(resolved, signingKey, stamps !== undefined);
    return done({ ...base, diagnostics: checked, renderable }, complete, env);
  } catch (e) {
    return done({ dir, diagnostics: [internalErrorOf(dir, e)] });
  }
}

/** Where a site's texts wait for emit: its staging directory when it is about to be written for the first time, else the output root's spill. */
function spillOf(root: string, site: string, staging: StagingScope | undefined): Spill {
  return staging?.writing && lstatOrUndefined(join(root, site)) === undefined ? Spill.staged(root, site, staging) : new Spill(root);
}

/** What the second pass renders from: the model, the files read for it, how to keep or spill the output. */
function renderableOf(a: {
  model: SiteModel;
  loaded: LoadedSite;
  read: ReturnType<typeof readInputFiles>;
  mode: SecretMode;
  cache: ReturnType<typeof watchCache>;
  signing: Renderable['signing'];
  dir: string;
  options: CompileOptions;
}): Renderable {
  const { cache, options, read } = a;
  return {
    model: a.model,
    locate: a.loaded.locate,
    files: { binaries: read.binaries, userData: read.userData, mediaLoaders: read.mediaLoaders },
    secrets: a.mode,
    ...(cache ? { cache } : {}),
    ...(!cache && options.reuseOutput !== undefined
      ? { reuse: { outRoot: options.reuseOutput, siteDir: resolve(options.cwd ?? process.cwd(), a.dir) } }
      : {}),
    ...(!cache && options.spillTo !== undefined ? { spillTo: options.spillTo } : {}),
    ...(!cache && options.spillTo !== undefined && options.staging ? { staging: options.staging } : {}),
    ...(a.signing ? { signing: a.signing } : {}),
  };
}

/** The site's secrets and its signing key (read by a deploy build only, masked like the secrets). */
async function siteSecrets(loaded: LoadedSite, options: CompileOptions, mode: SecretMode) {
  const read = {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    root: loaded.repo?.root ?? secretRoot(loaded.dir),
    mode,
  };
  const resolved = await resolveSecrets(loaded.input!, loaded.locate, read);
  const signingKey = await resolveSigningKey(loaded.input!, loaded.locate, read);
  return { resolved, signingKey };
}

/** watch's caches of the site: resolved nodes (pass 1) and rendered ones (pass 2). */
function watchCache(options: CompileOptions, dir: string): RenderCache | undefined {
  if (!options.renderCaches) return undefined;
  const cache = options.renderCaches.get(dir) ?? renderCache();
  options.renderCaches.set(dir, cache);
  return cache;
}

/**
 * Whether every input read is stamped: a secret from the environment is covered by its keyed
 * digest (none without a state key: then the site is never recorded as clean).
 */
function envCoverage(
  resolved: SecretResolution,
  signingKey: Awaited<ReturnType<typeof resolveSigningKey>>,
  stamped: boolean,
): { complete: boolean; env: readonly (readonly [string, string])[] } {
  const fromEnv = [...resolved.envValues, ...(signingKey.envValue ? [signingKey.envValue] : [])];
  const env = stamped && fromEnv.length > 0 ? envDigests(fromEnv) : [];
  const covered = env !== undefined && env.length === fromEnv.length;
  return { complete: covered || (!resolved.fromEnv && !signingKey.fromEnv), env: env ?? [] };
}

/**
 * The second pass: render a site of the first (one that cannot be rendered comes back as it is,
 * with its problems). Never throws: an exception is the site's INTERNAL_ERROR, its diagnostics
 * (warnings too) kept, so that a caller that reports what rendering added (build) sees it, and
 * nothing is written.
 */
export function renderModelled(modelled: ModelledSite): CompiledSite {
  const { renderable, ...site } = modelled;
  if (!renderable) return site;
  let added: readonly Diagnostic[];
  let artifacts: readonly Artifact[] | undefined;
  let nodes: RenderedNodes | undefined;
  try {
    testThrow('render');
    const model = renderable.model;
    const reused = renderable.reuse
      ? reusableRender(renderable.reuse.outRoot, renderable.reuse.siteDir, model.site, model.boot.server, renderable.secrets)
      : undefined;
    const rendered = renderSite(renderable.model, renderable.locate, renderable.cache ?? reused, {
      binaries: renderable.files.binaries,
      userData: renderable.files.userData,
      mediaLoaders: renderable.files.mediaLoaders,
      secrets: renderable.secrets,
      // A build writes into the output root: a large site's texts wait there, not in memory.
      ...(renderable.spillTo !== undefined ? { spill: spillOf(renderable.spillTo, model.site, renderable.staging) } : {}),
    });
    added = rendered.diagnostics;
    if (!added.some((d) => d.severity === 'error')) artifacts = rendered.artifacts;
    if (artifacts && reused)
      nodes = renderedNodes(
        reused,
        model.nodes.map((n) => n.hostname),
      );
    // A deploy build with `signing:` signs the manifest it rendered (src/sign/): the signature
    // is one more file of the tree, written and checked like the others; never an unsigned tree.
    if (artifacts && renderable.signing) {
      const signed = signManifest(renderable.signing, artifacts, renderable.locate);
      if (signed.diagnostics) {
        added = [...added, ...signed.diagnostics];
        artifacts = undefined;
      } else artifacts = [...artifacts, signed.artifact];
    }
  } catch (e) {
    added = [internalErrorOf(site.dir, e)];
  }
  const diagnostics = [...site.diagnostics, ...maskDiagnostics(added, site.masked)];
  // A site whose render failed is not recorded as clean: its inputs stay, for watch.
  const inputs = site.inputs && !artifacts ? { inputs: { ...site.inputs, complete: false } } : {};
  return { ...site, diagnostics, ...inputs, ...(artifacts ? { artifacts, ...(nodes ? { rendered: nodes } : {}) } : {}) };
}

/** An exception as the INTERNAL_ERROR diagnostic of a site (stack in `detail`, shown with --debug). */
function internalErrorOf(dir: string, e: unknown): Diagnostic {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    code: 'INTERNAL_ERROR',
    severity: 'error',
    message: `harvgen failed on ${dir}: ${err.message} (this is a bug in harvgen)`,
    hint: 'Please report it with the inventory; run with --debug for the stack trace.',
    detail: err.stack ?? String(err),
  };
}

/**
 * Test-only: `HARVGEN_TEST_THROW=<point>` makes that step throw, as a bug would
 * (test/exit-truth.test.ts: an internal error is never dropped).
 */
function testThrow(point: 'render'): void {
  if (process.env.HARVGEN_TEST_THROW === point) throw new Error(`HARVGEN_TEST_THROW=${point}`);
}
