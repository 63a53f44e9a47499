// Structural validation of the merged inventory against schema/site.schema.json with ajv's
// validators compiled ahead of time (src/validate/compiled/), every ajv error turned into a
// positioned diagnostic.
import type { ErrorObject } from 'ajv';
import { parse } from 'yaml';
import type { Diagnostic } from '../diagnostics/types.ts';
import { writtenText, type Locator, type LocateTarget } from '../load/index.ts';
import { closest } from '../util/suggest.ts';
import { newestOfLine, newestRelease } from '../harvester/releases.ts';
import { formatPath, type InventoryPath, pointerToPath } from '../util/paths.ts';
import { explainValue, VALUE_KINDS, type ValueKindName } from '../util/value-kinds.ts';
import { factsValidator, layerValidator, siteValidator } from './compiled/index.ts';
import type { CompiledValidator } from '../util/compiled-validators.ts';

const VALUE_KEYWORD = 'x-harvgen-value';

/** Validate the raw inventory; an empty list means it has the right shape. */
export function validateShape(input: unknown, locate: Locator, kind: 'site' | 'layer' | 'facts' = 'site'): Diagnostic[] {
  // Generated ahead of time by scripts/gen-validators.ts (`npm run gen:validators`) and loaded on
  // first use, not at import: a build whose sites are all up to date never validates.
  const validate = kind === 'site' ? siteValidator() : kind === 'facts' ? factsValidator() : layerValidator();
  const errors = kind === 'site' ? siteErrors(validate, input) : validate(input) ? [] : (validate.errors ?? []);
  if (errors.length === 0) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const d = toDiagnostic(e, input, locate);
    if (!d) continue;
    const key = `${d.code}|${d.path}|${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

/**
 * Frozen node values the site schema found valid. A node's part of the schema (`nodes.items`)
 * reads nothing outside the node, and a frozen value (watch's parse cache deep-freezes what it
 * keeps) cannot change: such a node is valid for good, and is not validated again.
 */
const validNodes = new WeakSet<object>();

/**
 * The site validator's errors for `input`: the site with only the nodes not known valid (each
 * error's path put back at its node's index), every node valid then kept as such when frozen.
 */
function siteErrors(validate: CompiledValidator, input: unknown): readonly ErrorObject[] {
  const nodes =
    typeof input === 'object' && input !== null && Array.isArray((input as { nodes?: unknown }).nodes)
      ? (input as { nodes: unknown[] }).nodes
      : undefined;
  if (!nodes) return validate(input) ? [] : (validate.errors ?? []);
  const at: number[] = [];
  const asked: unknown[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (typeof n === 'object' && n !== null && validNodes.has(n)) continue;
    at.push(i);
    asked.push(n);
  }
  const whole = asked.length === nodes.length;
  if (validate(whole ? input : { ...(input as Record<string, unknown>), nodes: asked })) {
    for (const n of asked) if (typeof n === 'object' && n !== null && Object.isFrozen(n)) validNodes.add(n);
    return [];
  }
  const errors = validate.errors ?? [];
  if (whole) return errors;
  return errors.map((e) => {
    const m = /^\/nodes\/(\d+)(?=\/|$)/.exec(e.instancePath);
    return m ? { ...e, instancePath: `/nodes/${at[Number(m[1])]}${e.instancePath.slice(m[0].length)}` } : e;
  });
}

/** What every keyword's diagnostic is built from: where the error is and how to make one there. */
interface ErrorSite {
  readonly e: ErrorObject;
  readonly path: InventoryPath;
  readonly where: string;
  readonly parent: { description?: string; properties?: Record<string, unknown>; [VALUE_KEYWORD]?: ValueKindName } | undefined;
  readonly locate: Locator;
  readonly make: (code: string, message: string, hint: string | undefined, at: InventoryPath, target?: LocateTarget) => Diagnostic;
}

/** One ajv error as a positioned diagnostic (undefined when another error already says it). */
function toDiagnostic(e: ErrorObject, input: unknown, locate: Locator): Diagnostic | undefined {
  const site = errorSite(e, input, locate);
  return valueKindDiagnostic(site) ?? versionDiagnostic(site) ?? keywordDiagnostic(site);
}

/** Locate the error's instance path and bind a diagnostic factory to it. */
function errorSite(e: ErrorObject, input: unknown, locate: Locator): ErrorSite {
  const path = pointerToPath(e.instancePath, input);
  const parent = e.parentSchema as ErrorSite['parent'];
  const make = (code: string, message: string, hint: string | undefined, at: InventoryPath, target: LocateTarget = 'value'): Diagnostic => {
    const loc = locate(at, target);
    return { code, severity: 'error', message, ...(hint ? { hint } : {}), path: formatPath(at), ...(loc ?? {}) };
  };
  return { e, path, where: formatPath(path), parent, locate, make };
}

/** A value that would land in a generated file: say exactly what is wrong and what is allowed. */
function valueKindDiagnostic({ e, parent, where, path, make }: ErrorSite): Diagnostic | undefined {
  const kind = parent?.[VALUE_KEYWORD];
  if (!kind || typeof e.data !== 'string' || (e.keyword !== 'pattern' && e.keyword !== 'maxLength')) return undefined;
  const k = VALUE_KINDS[kind];
  return make(
    'SCHEMA_PATTERN',
    `${where} ${explainValue(kind, e.data)}: ${describe(e.data)}`,
    `Write ${k.form}, e.g. \`${k.example}\`.`,
    path,
  );
}

/** `value` as written at `path`: after its key (`mtu: 9000`), or alone in a list (`"0011..."`). */
function keyed(path: InventoryPath, value: string): string {
  const last = path[path.length - 1];
  return typeof last === 'string' ? `${last}: ${value}` : value;
}

/** Whether `path` holds a Harvester release (`harvester.version`, `harvester.upgrade.to`, or a node's `harvester_version`). */
function isVersionPath(path: InventoryPath): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  return (
    last === 'harvester_version' ||
    (last === 'version' && parent === 'harvester') ||
    (last === 'to' && parent === 'upgrade' && path[path.length - 3] === 'harvester')
  );
}

/**
 * A Harvester release in the wrong form, with the fix for the usual slips: `1.5.1` (no v),
 * `V1.5.1`, `v1.5` (no patch; unquoted `1.5` is even a YAML number).
 */
function versionDiagnostic({ e, where, path, make }: ErrorSite): Diagnostic | undefined {
  if (!isVersionPath(path) || (e.keyword !== 'pattern' && e.keyword !== 'type')) return undefined;
  if (typeof e.data !== 'string' && typeof e.data !== 'number') return undefined;
  const text = String(e.data).trim();
  const key = path[path.length - 1];
  const full = /^[vV]?(\d+)\.(\d+)\.(\d+)(-rc\d+)?$/.exec(text);
  if (full) {
    const fixed = `v${text.replace(/^[vV]/, '')}`;
    return make(
      e.keyword === 'type' ? 'SCHEMA_TYPE' : 'SCHEMA_PATTERN',
      `${where} ${JSON.stringify(text)} ${text.startsWith('V') ? 'starts with a capital V' : 'has no leading `v`'}: Harvester releases are tagged \`v<major>.<minor>.<patch>\``,
      `${text.startsWith('V') ? 'Write the v in lowercase' : 'Add the v'}: \`${key}: ${fixed}\`.`,
      path,
    );
  }
  const line = /^[vV]?(\d+)\.(\d+)$/.exec(text);
  const newest = line ? newestOfLine({ raw: text, major: Number(line[1]), minor: Number(line[2]), patch: 0 }) : undefined;
  return make(
    e.keyword === 'type' ? 'SCHEMA_TYPE' : 'SCHEMA_PATTERN',
    `${where} ${typeof e.data === 'number' ? `is the YAML number ${text},` : `${JSON.stringify(text)} is`} not a Harvester release tag \`v<major>.<minor>.<patch>\``,
    line
      ? `Write the whole release, patch number included${newest ? `: the newest ${line[1]}.${line[2]} release harvgen knows is \`${key}: ${newest}\`` : ''} (newest of all: ${newestRelease()}).`
      : `Write a release tag such as \`${key}: ${newestRelease()}\` (the newest harvgen knows).`,
    path,
  );
}

/** The diagnostic of each remaining ajv keyword. */
function keywordDiagnostic(site: ErrorSite): Diagnostic | undefined {
  const { e, parent, where, path, make } = site;
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownKeyDiagnostic(site);
    case 'required':
    // A key another one needs (`cidr` needs `gateway`): the one missing, said as a missing key (the
    // same diagnostic as `required`'s, so one is printed; ajv's own message lists every dependent key).
    case 'dependencies':
    case 'dependentRequired':
      return missingKeyDiagnostic(site);
    case 'type':
      return wrongTypeDiagnostic(site);
    case 'enum':
      return enumDiagnostic(site);
    case 'pattern':
      return make('SCHEMA_PATTERN', `${where} has the wrong form: ${JSON.stringify(e.data)}`, parent?.description, path);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
      return make('SCHEMA_RANGE', `${where} ${e.message ?? 'is out of range'} (got ${describe(e.data)})`, parent?.description, path);
    case 'if':
      // "must match the then schema": the `then` branch's own error says what and where.
      return undefined;
    case 'not':
      // A key the schema forbids beside another (its description says why and what to do).
      return make('SCHEMA_INVALID', `${where} cannot be set here`, parent?.description, path, 'key');
    default:
      return make('SCHEMA_INVALID', `${where} ${e.message ?? 'is invalid'}`, parent?.description, path);
  }
}

/** A key the schema does not allow, at the key, with the closest allowed key. */
function unknownKeyDiagnostic({ e, parent, where, path, make }: ErrorSite): Diagnostic {
  const key = String((e.params as { additionalProperty: string }).additionalProperty);
  const allowed = Object.keys(parent?.properties ?? {});
  const guess = closest(key, allowed);
  return make(
    'SCHEMA_UNKNOWN_KEY',
    `unknown key "${key}" in ${where}${guess ? `; did you mean "${guess}"?` : ''}`,
    guess ? `Rename it to "${guess}".` : `Allowed keys here: ${allowed.join(', ')}.`,
    [...path, key],
    'key',
  );
}

/** A missing key, at the parent map, with what the key is for. */
function missingKeyDiagnostic({ e, parent, where, path, make }: ErrorSite): Diagnostic {
  const key = String((e.params as { missingProperty: string }).missingProperty);
  const desc = (parent?.properties?.[key] as { description?: string } | undefined)?.description;
  return make(
    'SCHEMA_REQUIRED',
    `missing required key "${key}" in ${where}`,
    desc ? `Add \`${key}:\`. ${desc}` : `Add \`${key}:\`.`,
    path,
    path.length ? 'key' : 'value',
  );
}

/** A value of the wrong type, with the YAML reading that most likely caused it. */
function wrongTypeDiagnostic({ e, parent, where, path, locate, make }: ErrorSite): Diagnostic {
  const want = String((e.params as { type: string | string[] }).type);
  const hint =
    macHint(path, e.data, locate) ??
    colonHint(want, e.data, Object.keys(parent?.properties ?? {})) ??
    listHint(want, e.data, path, locate, (parent as { items?: { type?: unknown } } | undefined)?.items?.type) ??
    scalarHint(want, e.data, path, locate);
  return make('SCHEMA_TYPE', `${where} must be ${article(want)}, got ${describe(e.data)}`, hint ?? parent?.description, path);
}

/**
 * A quoted number or boolean where the number or boolean is wanted (`mtu: "9000"`, `skipchecks:
 * "true"`), or an unquoted number or boolean where text is (`hostname: 123`): the value as meant.
 */
function scalarHint(want: string, data: unknown, path: InventoryPath, locate: Locator): string | undefined {
  const key = keyed(path, '');
  const number = want === 'integer' ? /^\s*-?\d+\s*$/ : /^\s*-?\d+(\.\d+)?\s*$/;
  if ((want === 'integer' || want === 'number') && typeof data === 'string' && number.test(data))
    return `Write the number without quotes: \`${key}${data.trim()}\`.`;
  if (want === 'boolean' && typeof data === 'string') {
    const word = data.trim().toLowerCase();
    const meant = ['true', 'yes', 'on'].includes(word) ? 'true' : ['false', 'no', 'off'].includes(word) ? 'false' : undefined;
    if (meant === undefined) return undefined;
    return word === meant
      ? `Write it without quotes: \`${key}${meant}\`.`
      : `YAML reads ${JSON.stringify(data)} as text here; write \`${key}${meant}\`.`;
  }
  if (want === 'string' && (typeof data === 'boolean' || typeof data === 'number')) {
    // Quoted as written: YAML has already turned `012` into 12 and `1.0` into 1.
    const written = scalarAsWritten(path, locate);
    if (written === undefined || /[\n"\\]/.test(written)) return undefined;
    return `Quote it: \`${key}"${written}"\` (YAML reads an unquoted ${typeof data} as one; quote the text as you meant it).`;
  }
  return undefined;
}

/** The text of the scalar at `path` as written, unless there is none or it is an alias (`*m`, not its value). */
function scalarAsWritten(path: InventoryPath, locate: Locator): string | undefined {
  const written = writtenText(locate(path, 'value'))?.trim();
  return written === undefined || written === '' || /^[*&!]/.test(written) ? undefined : written;
}

/** List keys whose items are words of a command line (a kernel's): a value is split at whitespace. */
const WORD_LISTS = new Set(['kernel_args', 'params']);

/**
 * One value where a list is wanted (`dns: 10.0.0.1`, `dns: 10.0.0.1, 10.0.0.2`): its items as a
 * YAML flow list of the list's item type. The value is split at a comma and a space; a command
 * line's words (`kernel_args`) at whitespace only, as a comma belongs to its word there
 * (`console=ttyS0,115200n8`); any other value is one item (an SSH key holds spaces, a console
 * `ttyS1,115200n8` a comma). Numbers are written bare; text is a plain word when YAML (1.1 and
 * 1.2) reads it back as that string, else quoted; a number or boolean YAML made of text that was
 * meant (`macs: 001122334455`) is quoted as written.
 */
function listHint(want: string, data: unknown, path: InventoryPath, locate: Locator, itemType: unknown): string | undefined {
  if (want !== 'array' || !['string', 'number', 'boolean'].includes(typeof data)) return undefined;
  const last = path[path.length - 1];
  const numbers = itemType === 'integer' || itemType === 'number';
  let text = String(data).trim();
  if (typeof data !== 'string') {
    const written = scalarAsWritten(path, locate);
    if (written === undefined) return undefined;
    text = written;
  }
  const items = (typeof last === 'string' && WORD_LISTS.has(last) ? text.split(/\s+/) : text.split(/\s*,\s+/)).filter((t) => t !== '');
  if (items.length === 0) return undefined;
  const number = itemType === 'integer' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
  if (numbers && !items.every((t) => number.test(t))) return undefined;
  const list = items.map((t) => (numbers || readsBackAs(t) ? t : JSON.stringify(t))).join(', ');
  return `Write a list${items.length === 1 ? ', even of one' : ''}: \`${keyed(path, `[${list}]`)}\`.`;
}

/** Whether `t`, unquoted in a flow list, is read back by YAML, 1.1 and 1.2 alike, as the one string `t`. */
function readsBackAs(t: string): boolean {
  if (!/^[\w./:+=@-]+$/.test(t)) return false;
  try {
    // `error`: an error throws (`silent` would drop it and hand back what was read); no warning is printed.
    return (['1.1', '1.2'] as const).every((version) => {
      const back: unknown = parse(`[${t}]`, { logLevel: 'error', version });
      return Array.isArray(back) && back.length === 1 && back[0] === t;
    });
  } catch {
    return false;
  }
}

/** A value outside an enum, with the closest allowed value. */
function enumDiagnostic({ e, parent, where, path, make }: ErrorSite): Diagnostic {
  const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
  const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
  return make(
    'SCHEMA_ENUM',
    `${where} is ${JSON.stringify(e.data)}, which is not one of: ${allowed.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`,
    parent?.description,
    path,
  );
}

/** Keys whose value is a MAC address (`macs` holds a list of them). */
const MAC_KEYS = new Set(['mac', 'vip_hw_addr']);

/**
 * A MAC that YAML did not read as a string: `mac: 001122334455` is the number 1122334455 (and
 * `52e400112233` a number in exponent notation). The hint quotes it as written in the file.
 */
function macHint(path: InventoryPath, data: unknown, locate: Locator): string | undefined {
  const last = path[path.length - 1];
  const isMac = typeof last === 'number' ? path[path.length - 2] === 'macs' : last !== undefined && MAC_KEYS.has(last);
  if (!isMac || (typeof data !== 'number' && typeof data !== 'boolean')) return undefined;
  const src = writtenText(locate(path, 'value'))?.trim() || String(data);
  const quoted = `"${src.replace(/["\\]/g, '\\$&')}"`;
  const why = /^[0-9]+$/.test(src)
    ? 'YAML reads an unquoted all-digit value as a number'
    : /^[0-9]*\.?[0-9]*[eE][-+]?[0-9]+$/.test(src)
      ? `YAML reads an unquoted value of digits around one \`e\` as a number in exponent notation (${String(data)})`
      : `YAML reads the unquoted \`${src}\` as a ${typeof data}`;
  return `Quote it: \`${keyed(path, quoted)}\` — ${why}.`;
}

/** A string where a mapping belongs that is a key and its value without `: ` between them. */
function colonHint(want: string, data: unknown, keys: readonly string[]): string | undefined {
  if (!want.includes('object') || typeof data !== 'string') return undefined;
  const m = /^([A-Za-z_][\w-]*)(:?)\s*(\S*)/.exec(data);
  if (!m || !keys.includes(m[1]!) || (m[2] === '' && !/\s/.test(data))) return undefined;
  const fixed = `\`${m[1]}: ${m[3]}\``;
  return m[2]
    ? `YAML reads \`${m[1]}:${m[3]}\` as one string because there is no space after the colon: write ${fixed}.`
    : `Missing \`:\` after the key \`${m[1]}\`? Write ${fixed}.`;
}

function article(type: string): string {
  const t = type.replace(',', ' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
