// Masking by source range: the text of every value written at a secret key (`token`, `private_key`,
// `password`, at any depth of any inventory file: `cluster.token`, `config.os.password`, a
// misspelt section's `token` too) is blanked in the source texts that code frames show, whatever
// its scalar style (plain over several lines, quoted with escapes, literal, folded). Value masking
// (`redact` in secrets.ts) catches a secret wherever else it is printed; this catches the secret
// as written, which value masking cannot recognise (`"\x41bc"`, a folded block, a line of it).
//
// Two scans, whose spans are joined: the YAML parse of the text (the exact range of each value,
// also in a file with errors, as far as the parser got), and a line scan that needs no parse
// (a file whose YAML is broken near the secret). Over-masking is harmless (a code frame shows
// `***`); under-masking prints a secret.
//
// Masking once per compile (src/pipeline.ts): the source texts by range, then by value
// (maskSources), and the diagnostics by value (maskDiagnostics).
import { parseAllDocuments, type Document } from 'yaml';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { MaskedValues } from '../util/masked.ts';
import { docSpans, lineSpans, SECRET_KEYS, type Span } from './mask-scan.ts';
import { redact } from './redact.ts';
import type { SourceFile } from './yaml/source-file.ts';

export { SECRET_KEYS, type Span } from './mask-scan.ts';

/** What stands in for a secret in printed text. */
export const MASK = '***';

/** Could the text hold a secret key? (A quoted key with escapes, `"tok\x65n"`, needs a backslash.) */
export function mayHoldSecretKey(text: string): boolean {
  for (const k of SECRET_KEYS) if (text.includes(k)) return true;
  return text.includes('\\');
}

/**
 * The spans of `text` that hold a value written at a secret key. For a file that parsed cleanly,
 * `clean` gives its Document: the line scan is exact for well-formed block YAML, so the Document
 * is walked only when the text has what a line scan cannot read (a flow collection, an anchor or
 * an alias, an escaped or explicit key); a file with errors is parsed here (as far as the parser
 * gets) and scanned both ways.
 */
export function secretSpans(text: string, clean?: () => Document): Span[] {
  if (!mayHoldSecretKey(text)) return [];
  const spans: Span[] = [...lineSpans(text)];
  let docs: readonly Document[] = [];
  if (clean !== undefined) {
    if (needsParse(text)) docs = [clean()];
  } else {
    try {
      const parsed = parseAllDocuments(text, { strict: false, uniqueKeys: false, prettyErrors: false });
      docs = Array.isArray(parsed) ? (parsed as Document[]) : [];
    } catch {
      docs = [];
    }
  }
  for (const doc of docs) spans.push(...docSpans(doc));
  return merge(spans, text.length);
}

/**
 * What a line scan cannot read: a flow collection (`{`, `[`: a value continued on the next line
 * inside one), an anchor or an alias (`&a`, `*a`: a secret key whose value is an alias of a
 * value written elsewhere, an alias as a key, a merge), an escaped key in quotes (`"tok\x65n"`),
 * an explicit key (`? token`). A block file without them (a node file as a fleet writes it)
 * needs no parse.
 */
function needsParse(text: string): boolean {
  return /[{[&*\\]/.test(text) || /^[ \t-]*\?(?:[ \t]|$)/m.test(text);
}

function merge(spans: readonly Span[], length: number): Span[] {
  const sorted = spans
    .map(([a, b]) => [Math.max(0, a), Math.min(length, b)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * The text with every span blanked: on each line a span touches, its text from the first to the
 * last non-blank character becomes `***`. Lines stay lines (code frames keep their numbers) and
 * indentation stays; nothing of the value is left, not even its length.
 */
export function maskSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [a, b] of spans) {
    out += text.slice(at, a);
    out += text
      .slice(a, b)
      .split('\n')
      .map((part) => {
        const m = /^(\s*)(\S(?:.*\S)?)?(\s*)$/s.exec(part);
        return m && m[2] !== undefined ? `${m[1]}${MASK}${m[3]}` : part;
      })
      .join('\n');
    at = b;
  }
  return out + text.slice(at);
}

/**
 * The secrets as written in spans (for masking in messages that quote a file that never got as
 * far as secret resolution): each span's text and each of its lines, trimmed, without quotes.
 */
export function spanValues(text: string, spans: readonly Span[], min: number): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    const t = s.trim();
    if (t.length >= min) out.add(t);
    const unq = t.replace(/^["']|["']$/g, '');
    if (unq.length >= min) out.add(unq);
  };
  for (const [a, b] of spans) {
    const raw = text.slice(a, b);
    add(raw);
    for (const l of raw.split('\n')) add(l);
  }
  return [...out].filter((v) => v !== MASK && !/^[|>][-+0-9]*$/.test(v));
}

/** Diagnostics with every masked value blanked out of their message, hint and detail. */
export function maskDiagnostics(diagnostics: readonly Diagnostic[], masked: MaskedValues): readonly Diagnostic[] {
  const v = masked.values;
  if (v.length === 0) return diagnostics;
  const clean = (t: string) => redact(t, v);
  return diagnostics.map((d) => ({
    ...d,
    message: clean(d.message),
    ...(d.hint !== undefined ? { hint: clean(d.hint) } : {}),
    ...(d.detail !== undefined ? { detail: clean(d.detail) } : {}),
  }));
}

/**
 * Mask the source texts in place: by range, then by value. Returns every value to mask in
 * messages: the secrets, and the secrets as written in the files (a file that failed to parse
 * never got to secret resolution).
 *
 * A file that parsed is judged once per SourceFile object (watch's parse cache hands the same one
 * back while the file is unchanged): its spans, then its text masked for one list of values, are
 * kept with it, so a rebuild of 10,000 node files scans only the changed ones.
 */
export function maskSources(sources: Record<string, string>, files: readonly SourceFile[], secrets: readonly string[]): readonly string[] {
  // What each text holds: a parsed file's kept with its object, any other text's (a file with a
  // YAML error) found afresh; by path, in the order the files were read.
  const found = new Map<string, MaskedFile>();
  for (const file of files) {
    if (sources[file.path] !== file.text || found.has(file.path)) continue;
    let kept = maskedFiles.get(file);
    if (!kept) maskedFiles.set(file, (kept = spansOf(file.text, () => file.doc)));
    found.set(file.path, kept);
  }
  if (found.size < Object.keys(sources).length)
    for (const path of Object.keys(sources)) if (!found.has(path)) found.set(path, spansOf(sources[path]!, undefined));
  const written: string[] = [];
  for (const [path, f] of found) {
    if (f.spanned === undefined) continue;
    written.push(...f.written);
    sources[path] = f.spanned;
  }
  const values = [...new Set([...secrets, ...written])];
  if (values.length === 0) return values;
  // Each text masked for these values, kept with it while they are the same.
  const key = JSON.stringify(values);
  for (const [path, f] of found) {
    if (f.valuesKey !== key) {
      f.valuesKey = key;
      f.redacted = redact(sources[path]!, values);
    }
    sources[path] = f.redacted!;
  }
  return values;
}

/** A text's secret spans masked (undefined when it has none) and the values they hold. */
function spansOf(text: string, doc: (() => SourceFile['doc']) | undefined): MaskedFile {
  if (!mayHoldSecretKey(text)) return { written: [] };
  // A file that parsed cleanly is scanned line by line (its Document, parsed again on demand,
  // only for keys a line scan cannot read); others are parsed here too, as far as they go.
  const spans = secretSpans(text, doc);
  if (spans.length === 0) return { written: [] };
  return { written: spanValues(text, spans, MIN_REDACTED), spanned: maskSpans(text, spans) };
}

/** What maskSources found in a parsed file's text, and the text masked for the last values it was asked with. */
interface MaskedFile {
  readonly written: readonly string[];
  readonly spanned?: string;
  valuesKey?: string;
  redacted?: string;
}

const maskedFiles = new WeakMap<SourceFile, MaskedFile>();

/** Secrets shorter than this are not masked in printed output (masking "ab" would garble everything). */
export const MIN_REDACTED = 4;
