// A small YAML writer for the node configs: block mappings and sequences (sequences indented
// under their key), plain scalars only where every YAML reader takes them back as the same
// string, double quotes (JSON escapes, which YAML shares) everywhere else. It writes what the
// `yaml` package's stringify wrote for these configs, about 30 times faster: at 10,000 nodes the
// library's serializer was the largest single cost of a build (test/yaml-writer.test.ts keeps
// both in step and checks that every output parses back to the value it came from).

/** YAML text of a plain JSON-like value (objects, arrays, strings, finite or infinite numbers, booleans, null). */
export function toYaml(value: unknown): string {
  const out: string[] = [];
  block(value, '', out);
  return out.join('');
}

function block(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    if (value.length === 0) return void out.push('[]\n');
    for (const item of value) {
      out.push(`${indent}- `);
      seqItem(item, `${indent}  `, out);
    }
    return;
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return void out.push('{}\n');
    for (const k of keys) {
      out.push(`${indent}${key(k)}:`);
      const v = value[k];
      if (isCollection(v)) {
        out.push('\n');
        block(v, `${indent}  `, out);
      } else out.push(` ${scalar(v)}\n`);
    }
    return;
  }
  out.push(`${scalar(value)}\n`);
}

/** A sequence item: its first line continues after `- `. */
function seqItem(value: unknown, indent: string, out: string[]): void {
  if (isCollection(value)) {
    const inner: string[] = [];
    block(value, indent, inner);
    // The first line of the block goes after `- `, without its indentation.
    inner[0] = inner[0]!.slice(indent.length);
    out.push(...inner);
    return;
  }
  out.push(`${scalar(value)}\n`);
}

/** A non-empty list or mapping: written as a block (empty ones are `[]` and `{}` on the key's line). */
function isCollection(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : isObject(v) && Object.keys(v).length > 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (!Number.isFinite(v)) return v > 0 ? '.inf' : '-.inf';
    return Object.is(v, -0) ? '-0' : String(v);
  }
  if (typeof v === 'string') return plainSafe(v) ? v : quote(v);
  if (Array.isArray(v)) return '[]';
  if (isObject(v)) return '{}';
  throw new TypeError(`cannot write a ${typeof v} as YAML`);
}

function key(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(k) && plainSafe(k) ? k : quote(k);
}

/** JSON's double-quoted form is a YAML double-quoted scalar; line separators and C1 controls are escaped too. */
function quote(s: string): string {
  // Escaped as well: DEL and C1 controls, line separators, the BOM and the non-characters
  // U+FFFE/U+FFFF, which YAML readers (PyYAML for cloud-init, Go's yaml) refuse raw.
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// Plain strings: letters, digits and a few punctuation marks, not starting with an indicator,
// without `: ` or ` #`, and not read back as anything but a string by a YAML 1.2 (core schema)
// or a YAML 1.1 reader (Go's yaml.v2 reads the installer config).
const PLAIN = /^[A-Za-z0-9_./$~(][A-Za-z0-9_./$~()=@+%,: -]*$/;
const NOT_STRING = [
  /^(~|null|Null|NULL)$/,
  /^(true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/,
  /^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/,
  /^[-+]?([0-9][0-9_]*)?(\.[0-9_]*)?([eE][-+]?[0-9]+)?$/,
  /^[-+]?\.(inf|Inf|INF)$/,
  /^\.(nan|NaN|NAN)$/,
  /^[-+]?0(b[01_]+|o[0-7_]+|x[0-9a-fA-F_]+)$/,
  /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/,
  /^(<<|=)$/,
];

/**
 * The first characters a NOT_STRING pattern can match at: `~`, a digit, a sign, `.`, `<`, `=`, `e`
 * and `E` (`e5` is taken as a number by one pattern) and the first letters of null, the booleans,
 * y/n and on/off. A plain string starting with any other
 * character (a hostname, a URL, a path) is no other type: its patterns are not tried.
 */
const MAY_NOT_BE_STRING = /^[~0-9+\-.<=nNtTfFyYoOeE]/;

function plainSafe(s: string): boolean {
  if (!PLAIN.test(s) || s.endsWith(' ') || s.endsWith(':') || s.includes(': ') || s.includes(' #') || s.includes('  ')) return false;
  if (!MAY_NOT_BE_STRING.test(s)) return true;
  for (const re of NOT_STRING) if (re.test(s)) return false;
  return true;
}
