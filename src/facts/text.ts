/**
 * A text a machine reports (a BMC's JSON, a dump's line) as a facts file keeps it: control
 * characters replaced by spaces, trimmed, at most 128 characters (schema/facts.schema.json's
 * `text`); undefined when nothing is left.
 */
export function reportedText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v
    // Control characters, and the bidirectional and zero-width marks that reorder or hide text
    // where a reviewer reads it (U+202E would show a serial backwards), become spaces.
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, ' ')
    .trim()
    .slice(0, 128)
    .trim();
  return t === '' ? undefined : t;
}

/** An SMBIOS UUID as a facts file keeps it: lowercase, its canonical form, else undefined. */
export function smbiosUuid(v: unknown): string | undefined {
  const uuid = reportedText(v)?.toLowerCase();
  return uuid !== undefined && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid) ? uuid : undefined;
}
