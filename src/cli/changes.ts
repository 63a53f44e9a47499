// What `build --dry-run` / `--check` found for one site, file by file: `missing` (the build would
// write a file the output does not have), `extra` (a file the previous build wrote that this one
// would remove) or `differs` (there, but not what the build writes); and with `--diff` a unified
// diff of each (`git diff` form, binary files named only). Nothing printed may show a secret:
// every diff goes through the library's redaction with the site's secret values, and a line that
// holds a secret in the new file is masked wherever the same line appears with another value in
// the old one (a rotated token is a secret too).
import { closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact } from '../render/artifact.ts';
import type { SiteModel } from '../model/index.ts';
import { redact, SECRET_FIELDS, SECRET_MARKERS } from '../load/secrets.ts';
import { MIN_REDACTED } from '../pipeline.ts';
import { unifiedDiff } from './diff.ts';
import { openNoFollow, readWhole } from '../util/read-fd.ts';
import type { ChangeStatus } from '../report/envelope.ts';

/** One file that would change. */
export interface FileChange {
  readonly path: string;
  readonly status: ChangeStatus;
}

/** A file's change with its diff (`git diff` form, redacted). */
export interface FileDiff extends FileChange {
  readonly diff: string;
}

/** What emit reported for a site (a `SiteBuild`). */
export interface ComparedSite {
  readonly written: readonly string[];
  readonly missing?: readonly string[];
  readonly removed: readonly string[];
}

/** Every changed file of a site, by path. */
export function siteChanges(s: ComparedSite): FileChange[] {
  const missing = new Set(s.missing ?? []);
  const changes: FileChange[] = [
    ...s.written.map((path) => ({ path, status: missing.has(path) ? ('missing' as const) : ('differs' as const) })),
    ...s.removed.map((path) => ({ path, status: 'extra' as const })),
  ];
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One line per changed file, as `build --dry-run` and `--check` print them. */
export function changeLines(s: ComparedSite): string[] {
  return siteChanges(s).map((c) => `  ${c.status.padEnd(7)}  ${c.path}`);
}

/**
 * The secret values of a site, for redaction: the value at each of SECRET_FIELDS in its model
 * (`cluster.token`, `cluster.password`: resolved, or the stand-in of a committed-tree build), as
 * long as the library masks (MIN_REDACTED). CompiledSite does not carry the list the library
 * redacts its diagnostics with; the model holds the same values.
 */
export function siteSecrets(model: SiteModel | undefined): string[] {
  const out: string[] = [];
  for (const path of SECRET_FIELDS) {
    let v: unknown = model;
    for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
    if (typeof v === 'string' && v.length >= MIN_REDACTED) out.push(v);
  }
  return out;
}

/** Largest file diffed (a larger one is named only). */
const MAX_DIFF_BYTES = 1024 * 1024;

type Side = { readonly bytes: Uint8Array; readonly mode: number } | undefined;

/** A file of the output as it is now: a regular file read without following a link, else nothing. */
function readOld(file: string): Side | 'too-large' {
  const fd = openNoFollow(file);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    if (st.size > MAX_DIFF_BYTES) return 'too-large';
    return { bytes: readWhole(fd, st.size), mode: st.mode & 0o777 };
  } finally {
    closeSync(fd);
  }
}

/** The text of a file, or undefined when it is binary (a NUL byte, or not UTF-8). */
function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** A YAML line whose key names a secret (`token:`, `password:`, also as a list item), with a value. */
const SECRET_KEY_LINE = /^(\s*(?:-\s+)?["']?(?:token|password)["']?\s*:\s+)\S.*$/;

/**
 * A masker for the diff of one file: every secret value becomes `***`, and so does the value in
 * any line shaped like a line of the new text that holds a secret or a secret's marker (the
 * committed tree's stand-in): the same text before and after it, quotes aside. So an old value at
 * that place is masked too, on either side of the diff: a rotated token, or the real token of a
 * tree built before secrets became markers.
 */
export function secretMasker(
  secrets: readonly string[],
  newText: string,
  markers: readonly string[] = Object.values(SECRET_MARKERS),
): (line: string) => string {
  const shapes: { before: string; after: string }[] = [];
  for (const line of newText.split('\n')) {
    for (const s of [...secrets, ...markers]) {
      const at = line.indexOf(s);
      if (at < 0) continue;
      const before = line.slice(0, at).replace(/["']+$/, '');
      // A line that is nothing but the secret has no shape to recognise an old value by.
      if (before.trim() !== '') shapes.push({ before, after: line.slice(at + s.length).replace(/^["']+/, '') });
    }
  }
  return (line: string) => {
    const out = redact(line, secrets);
    // Diff lines start with their marker (' ', '-', '+').
    const body = out.slice(1);
    // A marker is no secret: its line shows what the committed tree holds.
    if (markers.some((m) => body.includes(m))) return out;
    // A `token:` or `password:` key holds a secret whatever its value: a password hash, a value
    // set through `config:`, the old value of a deleted file.
    const keyed = SECRET_KEY_LINE.exec(body);
    if (keyed) return `${out[0]}${keyed[1]}***`;
    for (const { before, after } of shapes) {
      if (body.length > before.length + after.length && body.startsWith(before) && body.endsWith(after)) {
        return `${out[0]}${before}***${after}`;
      }
    }
    return out;
  };
}

/**
 * The diff of each changed file of a site whose output is in `outDir`, from the output as it is
 * to what the build writes (`artifacts`), in `git diff` form with paths relative to `outDir`.
 */
export function siteDiffs(outDir: string, site: ComparedSite, artifacts: readonly Artifact[], secrets: readonly string[]): FileDiff[] {
  const byPath = new Map(artifacts.map((a) => [a.path, a]));
  return siteChanges(site).map((c) => ({ ...c, diff: fileDiff(outDir, c, byPath.get(c.path), secrets) }));
}

function fileDiff(outDir: string, change: FileChange, artifact: Artifact | undefined, secrets: readonly string[]): string {
  const { path } = change;
  const head = [`diff --git a/${path} b/${path}`];
  const old = change.status === 'missing' ? undefined : readOld(join(outDir, path));
  if (old === 'too-large') return [...head, `(larger than ${MAX_DIFF_BYTES / 1024} KiB; not shown)`].join('\n') + '\n';
  const mode = (m: number) => `100${m.toString(8).padStart(3, '0')}`;
  if (!old && !artifact) return [...head, '(not a regular file; not shown)'].join('\n') + '\n';
  if (!old) head.push(`new file mode ${mode(artifact!.mode)}`);
  else if (!artifact) head.push(`deleted file mode ${mode(old.mode)}`);
  else if (old.mode !== artifact.mode) head.push(`old mode ${mode(old.mode)}`, `new mode ${mode(artifact.mode)}`);
  const newBytes = artifact ? (typeof artifact.contents === 'string' ? undefined : artifact.contents) : new Uint8Array();
  const newText = artifact ? (typeof artifact.contents === 'string' ? artifact.contents : undefined) : '';
  const oldText = old ? textOf(old.bytes) : '';
  const from = old ? `a/${path}` : '/dev/null';
  const to = artifact ? `b/${path}` : '/dev/null';
  if (newText === undefined || oldText === undefined) {
    const same = newBytes !== undefined && old !== undefined && Buffer.from(newBytes).equals(Buffer.from(old.bytes));
    if (!same) head.push(`Binary files ${from} and ${to} differ`);
    return head.join('\n') + '\n';
  }
  const mask = secretMasker(secrets, newText);
  const body = unifiedDiff(oldText, newText, { from, to });
  return (
    [
      ...head,
      ...(body === ''
        ? []
        : body
            .slice(0, -1)
            .split('\n')
            .map((l, i) => (i < 2 ? redact(l, secrets) : mask(l)))),
    ].join('\n') + '\n'
  );
}
