// One site through load -> validate -> model -> render, in memory. Used by check, build
// and watch. Unexpected exceptions become an INTERNAL_ERROR diagnostic (with the stack in
// `detail` for --debug), never a crash.
import type { Diagnostic } from './diagnostics/types.ts';
import { loadSite, type Locator, type ParseCache, type SourceFile } from './load/index.ts';
import { readInputFiles } from './inputs/index.ts';
import { configBlockSecrets, redact, resolveSecrets, secretRoot, type SecretMode } from './load/secrets.ts';
import { maskSpans, mayHoldSecretKey, secretSpans, spanValues } from './load/mask.ts';
import type { InputStamp } from './load/stamps.ts';
import type { SiteModel } from './model/index.ts';
import { renderCache, renderSite, type Artifact, type RenderCache } from './render/index.ts';
import { validateSite } from './validate/index.ts';

/** Everything known about one site after compiling it in memory. */
export interface CompiledSite {
  /** The site directory as given. */
  readonly dir: string;
  /** `site:` name (when the inventory got that far). */
  readonly site?: string;
  readonly model?: SiteModel;
  /** Rendered files; present only when there were no errors. */
  readonly artifacts?: readonly Artifact[];
  readonly diagnostics: readonly Diagnostic[];
  /** Maps inventory paths to file positions (for checks across sites). */
  readonly locate?: Locator;
  /** Text of every loaded file by displayed path (for code frames). */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * With `stamps`, when the site rendered: its inputs as found before reading (site and node
   * files, layers, secret files, the directories listed). Absent when a secret came from the
   * environment, which no stamp covers.
   */
  readonly stamps?: readonly InputStamp[];
}

/** Options shared by check and build. */
export interface CompileOptions {
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
  /** Record input stamps (build's up-to-date check). */
  readonly stamps?: boolean;
  /** Parses to reuse across compiles of unchanged files (watch). */
  readonly parseCache?: ParseCache;
  /** Rendered nodes to reuse across compiles, one RenderCache per absolute site directory (watch). */
  readonly renderCaches?: Map<string, RenderCache>;
  /**
   * false: stop after the model (load, secrets, validation); `renderCompiled` renders later.
   * build() compiles every site's model first (the checks between sites need all of them) and
   * renders and writes one site at a time, so only one site's files are in memory at once.
   */
  readonly render?: boolean;
}

/** Sites compiled with `render: false`, and how to finish each (render, stamps, redaction). */
const unrendered = new WeakMap<CompiledSite, () => CompiledSite>();

/**
 * Render a site compiled with `render: false` (a site with errors, or one already rendered,
 * comes back as it is).
 */
export function renderCompiled(site: CompiledSite): CompiledSite {
  return unrendered.get(site)?.() ?? site;
}

/** The secret values each compiled site masks (by value) in what it prints; kept out of the object, so never serialized. */
const maskedValues = new WeakMap<CompiledSite, readonly string[]>();

/**
 * The values a compiled site masks in everything it prints: its secrets (resolved, inline, under
 * `config:` of any layer) and the secrets as written in its files, in every form (`secretForms`).
 * `explain` masks its values with them.
 */
export function siteSecretValues(site: CompiledSite): readonly string[] {
  return maskedValues.get(site) ?? [];
}

/** Compile one site directory without touching the output. */
export async function compileSite(dir: string, options: CompileOptions = {}): Promise<CompiledSite> {
  const sources: Record<string, string> = {};
  let files: readonly SourceFile[] = [];
  let secrets: readonly string[] = [];
  let values: readonly string[] | undefined;
  // No secret reaches printed output: not in messages, hints, details or code frames. The
  // source texts are masked once, by range (every value written at a `token` or `password`
  // key, whatever its style: `maskSpans`) and by value (the secrets and their escaped forms,
  // wherever else they were written), also for files that failed before secrets were resolved.
  const done = (site: CompiledSite): CompiledSite => {
    values ??= maskSources(sources, files, secrets);
    const v = values;
    if (v.length === 0) {
      maskedValues.set(site, v);
      return site;
    }
    const clean = (t: string) => redact(t, v);
    const diagnostics = site.diagnostics.map((d) => ({
      ...d,
      message: clean(d.message),
      ...(d.hint !== undefined ? { hint: clean(d.hint) } : {}),
      ...(d.detail !== undefined ? { detail: clean(d.detail) } : {}),
    }));
    const out = { ...site, diagnostics };
    maskedValues.set(out, v);
    return out;
  };
  try {
    const loaded = await loadSite(dir, { ...options, stamps: options.stamps === true });
    // Every file read, also one that failed to parse: its YAML error gets a code frame too.
    Object.assign(sources, loaded.sources);
    files = loaded.files;
    const site = typeof loaded.input?.site === 'string' ? loaded.input.site : undefined;
    if (!loaded.input || loaded.diagnostics.length > 0) {
      return done({ dir, ...(site ? { site } : {}), diagnostics: loaded.diagnostics, sources });
    }
    const resolved = await resolveSecrets(loaded.input, loaded.locate, {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? process.env,
      root: loaded.repo?.root ?? secretRoot(loaded.dir),
      mode: options.secrets ?? 'markers',
    });
    // Secrets under `config:` of a shared layer (sites/_defaults.yaml, a profile) too.
    const layered = [loaded.layers.repo, ...Object.values(loaded.layers.profiles)].flatMap((l) => configBlockSecrets(l?.config));
    secrets = [...resolved.secrets, ...layered].filter((s) => s.length >= MIN_REDACTED);
    const base0 = { dir, ...(site ? { site } : {}), sources, locate: loaded.locate };
    const validated = validateSite(resolved.input, loaded.locate, loaded.layers);
    const base = { ...base0, ...(validated.model ? { model: validated.model } : {}) };
    const checked = [...resolved.diagnostics, ...validated.diagnostics];
    if (!validated.model || validated.diagnostics.some((d) => d.severity === 'error')) {
      return done({ ...base, diagnostics: checked });
    }
    const model = validated.model;
    // Files the tree copies from outside the inventory (iPXE binaries, cloud-init user-data
    // files): read once per compile, stamped like inputs.
    const read = readInputFiles(model, loaded.dir, loaded.locate, loaded.repo);
    if (read.diagnostics.length > 0) return done({ ...base, diagnostics: [...checked, ...read.diagnostics] });
    const render = (): CompiledSite => {
      try {
        testThrow('render');
        let cache: RenderCache | undefined;
        if (options.renderCaches) {
          cache = options.renderCaches.get(loaded.dir) ?? renderCache();
          options.renderCaches.set(loaded.dir, cache);
        }
        const rendered = renderSite(model, loaded.locate, cache, {
          binaries: read.binaries,
          userData: read.userData,
          secrets: options.secrets ?? 'markers',
        });
        const diagnostics = [...checked, ...rendered.diagnostics];
        const ok = !rendered.diagnostics.some((d) => d.severity === 'error');
        const stamps = ok && loaded.stamps && !resolved.fromEnv ? [...loaded.stamps, ...resolved.stamps, ...read.stamps] : undefined;
        return done({ ...base, diagnostics, ...(ok ? { artifacts: rendered.artifacts } : {}), ...(stamps ? { stamps } : {}) });
      } catch (e) {
        // The site as compiled, its diagnostics (warnings too) kept, the failure added: a
        // caller that reports what rendering added (build) sees it, and nothing is written.
        return done({ ...base, diagnostics: [...checked, internalErrorOf(dir, e)] });
      }
    };
    if (options.render !== false) return render();
    const partial = done({ ...base, diagnostics: checked });
    unrendered.set(partial, render);
    return partial;
  } catch (e) {
    return done({ dir, sources, diagnostics: [internalErrorOf(dir, e)] });
  }
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

/**
 * Mask the source texts in place: by range, then by value. Returns every value to mask in
 * messages: the secrets, and the secrets as written in the files (a file that failed to parse
 * never got to secret resolution).
 */
function maskSources(sources: Record<string, string>, files: readonly SourceFile[], secrets: readonly string[]): readonly string[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const written: string[] = [];
  for (const [path, text] of Object.entries(sources)) {
    if (!mayHoldSecretKey(text)) continue;
    const file = byPath.get(path);
    // A file that parsed cleanly is scanned line by line (its Document, parsed again on demand,
    // only for keys a line scan cannot read); others are parsed here too, as far as they go.
    const spans = secretSpans(text, file && file.text === text ? () => file.doc : undefined);
    if (spans.length === 0) continue;
    written.push(...spanValues(text, spans, MIN_REDACTED));
    sources[path] = maskSpans(text, spans);
  }
  const values = [...new Set([...secrets, ...written])];
  if (values.length > 0) for (const [path, text] of Object.entries(sources)) sources[path] = redact(text, values);
  return values;
}

/** Secrets shorter than this are not masked in printed output (masking "ab" would garble everything). */
export const MIN_REDACTED = 4;
