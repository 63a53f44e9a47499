// One site through load -> validate -> model -> render, in memory. Used by check, build
// and watch. Unexpected exceptions become an INTERNAL_ERROR diagnostic (with the stack in
// `detail` for --debug), never a crash.
import type { Diagnostic } from './diagnostics/types.ts';
import { loadSite, type Locator, type ParseCache } from './load/index.ts';
import { loadIpxeBinaries } from './load/binaries.ts';
import { loadUserDataFiles } from './load/cloud-init.ts';
import { redact, resolveSecrets, secretRoot, type SecretMode } from './load/secrets.ts';
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

/** Compile one site directory without touching the output. */
export async function compileSite(dir: string, options: CompileOptions = {}): Promise<CompiledSite> {
  const sources: Record<string, string> = {};
  let secrets: readonly string[] = [];
  // No secret value reaches printed output: not in messages, hints, details or code frames.
  const done = (site: CompiledSite): CompiledSite => {
    if (secrets.length === 0) return site;
    const clean = (t: string) => redact(t, secrets);
    for (const k of Object.keys(sources)) sources[k] = clean(sources[k]!);
    const diagnostics = site.diagnostics.map((d) => ({
      ...d,
      message: clean(d.message),
      ...(d.hint !== undefined ? { hint: clean(d.hint) } : {}),
      ...(d.detail !== undefined ? { detail: clean(d.detail) } : {}),
    }));
    return { ...site, diagnostics };
  };
  try {
    const loaded = await loadSite(dir, { ...options, stamps: options.stamps === true });
    // Every file read, also one that failed to parse: its YAML error gets a code frame too.
    Object.assign(sources, loaded.sources);
    const site = typeof loaded.input?.site === 'string' ? loaded.input.site : undefined;
    if (!loaded.input || loaded.diagnostics.length > 0) {
      return { dir, ...(site ? { site } : {}), diagnostics: loaded.diagnostics, sources };
    }
    const resolved = await resolveSecrets(loaded.input, loaded.locate, {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? process.env,
      root: secretRoot(loaded.dir),
      mode: options.secrets ?? 'markers',
    });
    secrets = resolved.secrets.filter((s) => s.length >= MIN_REDACTED);
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
    const binaries = loadIpxeBinaries(model, loaded.dir, loaded.locate);
    const userData = loadUserDataFiles(model, loaded.dir, loaded.locate);
    const readProblems = [...binaries.diagnostics, ...userData.diagnostics];
    if (readProblems.length > 0) return done({ ...base, diagnostics: [...checked, ...readProblems] });
    const render = (): CompiledSite => {
      try {
        let cache: RenderCache | undefined;
        if (options.renderCaches) {
          cache = options.renderCaches.get(loaded.dir) ?? renderCache();
          options.renderCaches.set(loaded.dir, cache);
        }
        const rendered = renderSite(model, loaded.locate, cache, {
          binaries: binaries.files,
          userData: userData.files,
          secrets: options.secrets ?? 'markers',
        });
        const diagnostics = [...checked, ...rendered.diagnostics];
        const ok = !rendered.diagnostics.some((d) => d.severity === 'error');
        const stamps =
          ok && loaded.stamps && !resolved.fromEnv
            ? [...loaded.stamps, ...resolved.stamps, ...binaries.stamps, ...userData.stamps]
            : undefined;
        return done({ ...base, diagnostics, ...(ok ? { artifacts: rendered.artifacts } : {}), ...(stamps ? { stamps } : {}) });
      } catch (e) {
        return internalError(e);
      }
    };
    if (options.render !== false) return render();
    const partial = done({ ...base, diagnostics: checked });
    unrendered.set(partial, render);
    return partial;
  } catch (e) {
    return internalError(e);
  }

  function internalError(e: unknown): CompiledSite {
    const err = e as Error;
    return done({
      dir,
      sources,
      diagnostics: [
        {
          code: 'INTERNAL_ERROR',
          severity: 'error',
          message: `harvgen failed on ${dir}: ${err.message} (this is a bug in harvgen)`,
          hint: 'Please report it with the inventory; run with --debug for the stack trace.',
          detail: err.stack ?? String(err),
        },
      ],
    });
  }
}

/** Secrets shorter than this are not masked in printed output (masking "ab" would garble everything). */
export const MIN_REDACTED = 4;
