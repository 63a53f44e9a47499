// Value masking: every form in which a secret can be printed (`secretForms`), replaced with `***`
// in any text harvgen prints (`redact`), a prefix of one cut short with `…` too. Masking by source
// range, for the secret as written in a file, is mask.ts.
/** Derived forms (a line of a multi-line secret, a truncated prefix) shorter than this are not masked: they would garble everything. */
const MIN_FORM = 4;

/** Masking forms by secrets list (the pipeline and the diff redact many texts with one list). */
const formsOf = new WeakMap<readonly string[], readonly string[]>();

/**
 * Every form in which a secret can be printed: as it is; escaped as JSON and as a double-quoted
 * YAML string (`\n`, `\u0001` or `\x01`, `\"`), as a single-quoted YAML string (`''`); each
 * line of a multi-line one, and the one-line form YAML folds it into; each whitespace-separated
 * part of at least 4 characters (the lines of a folded one). Longest first, so a form that
 * contains another is masked whole.
 */
export function secretForms(secrets: readonly string[]): readonly string[] {
  const known = formsOf.get(secrets);
  if (known) return known;
  const forms = new Set<string>();
  const add = (f: string) => {
    if (f.length >= MIN_FORM) forms.add(f);
  };
  for (const s of secrets) {
    if (s.length === 0) continue;
    forms.add(s);
    const json = JSON.stringify(s).slice(1, -1);
    add(json);
    add(json.replace(/\\u00([0-9a-fA-F]{2})/g, '\\x$1'));
    add(s.replace(/'/g, "''"));
    if (/[\r\n]/.test(s)) {
      for (const line of s.split(/\r?\n/)) add(line.trim());
      add(s.replace(/\s*\n\s*/g, ' ').trim());
    }
    // Each whitespace-separated part: YAML folds the lines of a secret into one with spaces (a
    // folded or multi-line plain scalar, its lines anywhere in a file, an anchor's value used at
    // a secret key), so the lines as written are its parts. Over-masking a word is harmless.
    if (/\s/.test(s)) {
      for (const part of s.split(/\s+/)) {
        add(part);
        add(JSON.stringify(part).slice(1, -1));
      }
    }
  }
  const out = [...forms].sort((a, b) => b.length - a.length);
  formsOf.set(secrets, out);
  return out;
}

/**
 * Replace every secret in `text` with `***`: each of its printed forms (`secretForms`), and a
 * prefix of one cut short with `…` (messages quote long values as their first 40 characters).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = secretForms(secrets);
  let out = text;
  for (const f of forms) if (out.includes(f)) out = out.split(f).join('***');
  return out.includes('\u2026') ? redactTruncated(out, forms) : out;
}

/** Longest prefix looked for before an ellipsis (truncated quotes in messages and code frames are shorter). */
const MAX_TRUNCATED = 200;

function redactTruncated(text: string, forms: readonly string[]): string {
  let out = text;
  for (let p = out.indexOf('\u2026'); p >= 0; p = out.indexOf('\u2026', p + 1)) {
    let best = 0;
    for (const f of forms) {
      for (let k = Math.min(f.length - 1, p, MAX_TRUNCATED); k > best && k >= MIN_FORM; k--) {
        if (out.startsWith(f.slice(0, k), p - k)) {
          best = k;
          break;
        }
      }
    }
    if (best > 0) {
      out = `${out.slice(0, p - best)}***${out.slice(p)}`;
      p = p - best + 3;
    }
  }
  return out;
}
