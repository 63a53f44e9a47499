// What a site's emit found besides its changes, as diagnostics: a repaired tree, an unfinished
// one, untrusted paths, and with --check a stale tree.
import type { Diagnostic } from '../diagnostics/types.ts';
import type { EmitResult } from '../emit/index.ts';

/** What a site's emit found besides changes: a repaired tree, an unfinished one, untrusted paths. */
export function emitNotes(dir: string, siteDir: string, r: EmitResult, check: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (r.recovery?.discarded !== undefined) {
    const { discarded, tempFilesRemoved } = r.recovery;
    out.push({
      code: 'EMIT_JOURNAL_DISCARDED',
      severity: 'warning',
      message: `${dir}: ignored the journal .harvgen-journal.json (it ${discarded}); deleted it unapplied with ${tempFilesRemoved} temporary file(s), then built the tree anew`,
      hint: 'A journal harvgen wrote only touches files a manifest.json lists: this one was edited, forged or damaged. The tree is whole again; check who can write to the output directory.',
    });
  } else if (r.recovery) {
    const { recovered, completed, tempFilesRemoved } = r.recovery;
    const what = recovered === 'rolled-forward' ? `completed it (${completed} file changes)` : 'kept the previous tree';
    out.push({
      code: 'EMIT_RECOVERED',
      severity: 'warning',
      message: `${dir}: the previous build was interrupted; ${what} and removed ${tempFilesRemoved} temporary file(s) before this build`,
      hint: 'Nothing to do: the tree is whole again. A build is interrupted by a kill, a crash or a full disk.',
    });
  }
  if (r.interrupted) {
    out.push({
      code: 'EMIT_INTERRUPTED',
      severity: check ? 'error' : 'warning',
      message: `${dir} holds an unfinished build (a journal or temporary files of a killed build)`,
      hint: `Run \`harvgen build ${siteDir}\` to finish or undo it; --check and --dry-run write nothing, so they do not repair it.`,
    });
  }
  if (r.untrusted) {
    out.push({
      code: 'EMIT_UNTRUSTED_PATH',
      severity: 'warning',
      message: `${dir}: ignored ${r.untrusted.length} path(s) that are not plain relative paths: ${r.untrusted.slice(0, 5).join(', ')}${r.untrusted.length > 5 ? ', ...' : ''}`,
      hint: 'harvgen writes only plain paths there: the file was edited by hand or forged. Nothing outside the site directory was touched; check who can write to the output directory.',
    });
  }
  return out;
}

/** With --check: EMIT_STALE when the site's output differs from what would be built. */
export function staleSite(dir: string, siteDir: string, r: EmitResult): Diagnostic[] {
  if (r.written.length === 0 && r.removed.length === 0) return [];
  const missing = new Set(r.missing ?? []);
  return [
    {
      code: 'EMIT_STALE',
      severity: 'error',
      message: `${dir} is stale: ${[
        ...r.written.map((p) => `${p} ${missing.has(p) ? 'is missing' : 'differs'}`),
        ...r.removed.map((p) => `${p} is extra (no longer built)`),
      ].join(', ')}`,
      hint: `Run \`harvgen build ${siteDir}\` and commit the result.`,
    },
  ];
}
