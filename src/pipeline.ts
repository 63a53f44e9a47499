// One site through load -> validate -> model -> render, in memory. Used by check, build
// and watch. Unexpected exceptions become an INTERNAL_ERROR diagnostic (with the stack in
// `detail` for --debug), never a crash.
import type { Diagnostic } from './diagnostics/types.ts';
import { loadSite, type Locator } from './load/index.ts';
import type { SiteModel } from './model/index.ts';
import { renderSite, type Artifact } from './render/index.ts';
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
}

/** Options shared by check and build. */
export interface CompileOptions {
  /** Directory paths are resolved and displayed against (default process.cwd()). */
  readonly cwd?: string;
}

/** Compile one site directory without touching the output. */
export async function compileSite(dir: string, options: CompileOptions = {}): Promise<CompiledSite> {
  const sources: Record<string, string> = {};
  try {
    const loaded = await loadSite(dir, options);
    for (const f of loaded.files) sources[f.path] = f.text;
    const site = typeof loaded.input?.site === 'string' ? loaded.input.site : undefined;
    if (!loaded.input || loaded.diagnostics.length > 0) {
      return { dir, ...(site ? { site } : {}), diagnostics: loaded.diagnostics, sources };
    }
    const validated = validateSite(loaded.input, loaded.locate);
    const base = { dir, ...(site ? { site } : {}), sources, locate: loaded.locate, ...(validated.model ? { model: validated.model } : {}) };
    if (!validated.model || validated.diagnostics.some((d) => d.severity === 'error')) {
      return { ...base, diagnostics: validated.diagnostics };
    }
    const rendered = renderSite(validated.model, loaded.locate);
    const diagnostics = [...validated.diagnostics, ...rendered.diagnostics];
    const ok = !rendered.diagnostics.some((d) => d.severity === 'error');
    return { ...base, diagnostics, ...(ok ? { artifacts: rendered.artifacts } : {}) };
  } catch (e) {
    const err = e as Error;
    return {
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
    };
  }
}
