// The Harvester installer config schema (schema/harvester-config.schema.json) narrowed to one
// release line, and validation of an emitted config against it. The JSON file describes every
// line at once: keys carry `x-since` / `x-until` (release lines); a per-line copy drops the keys
// that line does not know, so `additionalProperties: false` rejects them there. The validators
// of the lines are compiled ahead of time from these narrowed copies (scripts/gen-validators.ts).
import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { installerValidator } from './compiled/index.ts';
import type { CompiledValidator } from '../util/compiled-validators.ts';
import { atLeast, isSupported, parseVersion, type HarvesterVersion } from './versions.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { packageFile } from '../util/package-root.ts';

/** One way an installer config does not match the schema of a release line. */
export interface InstallerSchemaIssue {
  /** JSON path of the offending value; for unknown and missing keys, the path of their parent object. */
  path: (string | number)[];
  /** The failing JSON Schema keyword (`additionalProperties`, `required`, `type`, `enum`, ...). */
  keyword: string;
  message: string;
  /** The unknown key (additionalProperties) or the missing key (required). */
  key?: string;
}

type SchemaNode = Record<string, unknown>;

const SCHEMA_URL = packageFile('schema', 'harvester-config.schema.json');
const FULL: SchemaNode = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as SchemaNode;

// Keys the installer parses but harvgen must not emit: the reason is part of the message.
const NOT_EMITTED: Readonly<Record<string, string>> = {
  'install.management_interface.default_route': 'the installer ignores it',
  'install.automatic': 'it belongs on the kernel command line',
  'install.config_url': 'it belongs on the kernel command line',
  'install.silent': 'internal installer key',
  'install.no_format': 'internal installer key',
  'install.force_gpt': 'internal installer key',
  'install.raw_disk_image_path': 'internal installer key',
  'install.harvester.enable_go_cover_dir': 'internal installer key',
  runtime_version: 'internal installer key',
  rancher_version: 'internal installer key',
  harvester_chart_version: 'internal installer key',
  monitoring_chart_version: 'internal installer key',
  logging_chart_version: 'internal installer key',
  kubeovn_chart_version: 'internal installer key',
};

// Keywords whose value is one subschema, a map of subschemas, or a list of subschemas.
const ONE_SCHEMA = ['additionalProperties', 'items', 'propertyNames', 'not', 'if', 'then', 'else'] as const;
const SCHEMA_MAPS = ['properties', 'definitions'] as const;
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;

const schemas = new Map<string, SchemaNode>();

/** The installer config schema as release line `minor` (e.g. '1.4') knows it; cached and frozen. */
export function installerSchemaFor(minor: string): Record<string, unknown> {
  const cached = schemas.get(minor);
  if (cached) return cached;
  const line = lineOf(minor);
  const copy = structuredClone(FULL);
  prune(copy, line);
  copy.$id = `https://harvgen.dev/schema/harvester-config-v${minor}.schema.json`;
  copy.title = `${String(FULL.title)} (Harvester v${minor})`;
  deepFreeze(copy);
  schemas.set(minor, copy);
  return copy;
}

const booleans = new Map<string, readonly string[]>();

/** The dotted keys of the boolean settings release line `minor` knows (maps of maps only; not inside lists). */
export function booleanKeys(minor: string): readonly string[] {
  let keys = booleans.get(minor);
  if (keys === undefined) {
    // A release harvgen does not know has no schema: HARVESTER_VERSION_UNSUPPORTED says so.
    const v = /^\d+\.\d+$/.test(minor) ? parseVersion(`${minor}.0`) : undefined;
    if (v === undefined || !isSupported(v)) return [];
    const found: string[] = [];
    const walk = (node: unknown, prefix: string): void => {
      if (!isObject(node)) return;
      if (node.type === 'boolean' && prefix !== '') found.push(prefix);
      const props = node.properties;
      if (isObject(props)) for (const [k, sub] of Object.entries(props)) walk(sub, prefix === '' ? k : `${prefix}.${k}`);
    };
    walk(installerSchemaFor(minor), '');
    keys = Object.freeze(found.sort());
    booleans.set(minor, keys);
  }
  return keys;
}

/** Validate an installer config (parsed YAML) against release line `minor`; empty when valid. */
export function validateInstallerConfig(minor: string, config: unknown): InstallerSchemaIssue[] {
  const validate = validatorFor(minor);
  if (validate(config)) return [];
  return toIssues(validate.errors ?? [], config, minor);
}

/** Release line that added the key at `path` (or one of its parents); undefined when v1.2 had it or it is unknown. */
export function installerKeySince(path: readonly (string | number)[]): string | undefined {
  return keyGate(path)?.since;
}

/** The validators looked up so far, by the release line asked for (a build asks once per node). */
const validators = new Map<string, CompiledValidator>();

/**
 * The validator of release line `minor`. scripts/gen-validators.ts generates one for every line
 * from SUPPORTED_RANGE.oldest to .newest, and lineOf refuses any other line, so there is none to
 * compile at run time; the error below means the range changed without `npm run gen:validators`
 * (test/validators-drift.test.ts fails then too).
 */
function validatorFor(minor: string): CompiledValidator {
  let validate = validators.get(minor);
  if (validate === undefined) {
    const line = lineOf(minor);
    validate = installerValidator(`${line.major}.${line.minor}`);
    if (!validate) throw new Error(`no installer config validator for Harvester v${minor}: run \`npm run gen:validators\``);
    validators.set(minor, validate);
  }
  return validate;
}

function lineOf(minor: string): HarvesterVersion {
  const v = /^\d+\.\d+$/.test(minor) ? parseVersion(`${minor}.0`) : undefined;
  if (!v) throw new RangeError(`not a Harvester release line: "${minor}" (expected e.g. "1.4")`);
  if (!isSupported(v)) throw new RangeError(`Harvester v${minor} is not a release line harvgen knows`);
  return v;
}

/** True when the subschema exists in release line `line` (its x-since/x-until allow it). */
function knownIn(node: unknown, line: HarvesterVersion): boolean {
  if (!isObject(node)) return true;
  const since = node['x-since'];
  const until = node['x-until'];
  if (typeof since === 'string' && !atLeast(line, since)) return false;
  if (typeof until === 'string' && atLeast(line, until)) return false;
  return true;
}

/** Remove, in place, every property and alternative that `line` does not know. */
function prune(node: unknown, line: HarvesterVersion): void {
  if (!isObject(node)) return;
  const props = node.properties;
  if (isObject(props)) {
    const dropped = new Set<string>();
    for (const [name, sub] of Object.entries(props)) {
      if (!knownIn(sub, line)) {
        delete props[name];
        dropped.add(name);
      }
    }
    if (Array.isArray(node.required)) node.required = node.required.filter((k) => !dropped.has(String(k)));
  }
  for (const kw of SCHEMA_LISTS) {
    const list = node[kw];
    if (!Array.isArray(list)) continue;
    const kept = list.filter((s) => knownIn(s, line));
    if (kw !== 'allOf' && kept.length === 1 && isObject(kept[0])) {
      // A single remaining alternative: apply it directly, so its own errors (not the
      // alternatives' summary message) are reported, noting what a newer line would accept.
      const notes = list
        .filter((s) => !knownIn(s, line))
        .map(gatedAlternativeNote)
        .filter((n) => n !== '');
      if (notes.length > 0) kept[0]['x-note'] = notes.join('; ');
      delete node[kw];
      node.allOf = [...(Array.isArray(node.allOf) ? node.allOf : []), ...kept];
      const messages = node['x-message'];
      if (isObject(messages)) delete messages[kw];
    } else if (kept.length === 0) {
      delete node[kw];
    } else {
      node[kw] = kept;
    }
  }
  for (const kw of ONE_SCHEMA) prune(node[kw], line);
  for (const kw of SCHEMA_MAPS) {
    const map = node[kw];
    if (isObject(map)) for (const sub of Object.values(map)) prune(sub, line);
  }
  for (const kw of SCHEMA_LISTS) {
    const list = node[kw];
    if (Array.isArray(list)) for (const sub of list) prune(sub, line);
  }
}

/** How a dropped alternative reads in a message, e.g. `an object is accepted from v1.7`. */
function gatedAlternativeNote(alt: unknown): string {
  if (!isObject(alt) || typeof alt['x-since'] !== 'string') return '';
  const type = typeof alt.type === 'string' ? alt.type : '';
  const what = 'const' in alt ? JSON.stringify(alt.const) : type === '' ? '' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
  return what === '' ? '' : `${what} is accepted from v${alt['x-since']}`;
}

/** Latest x-since and earliest x-until on the way to `path` in the full schema; undefined when the path is not in it. */
function keyGate(path: readonly (string | number)[]): { since?: string; until?: string } | undefined {
  let node: SchemaNode | undefined = FULL;
  let since: string | undefined;
  let until: string | undefined;
  for (const seg of path) {
    if (!node) return undefined;
    const next: SchemaNode | undefined = typeof seg === 'number' || /^\d+$/.test(seg) ? itemsOf(node) : propertyOf(node, String(seg));
    if (!next) return undefined;
    for (const n of [next, resolve(next)]) {
      const s = n['x-since'];
      const u = n['x-until'];
      if (typeof s === 'string' && (!since || newer(s, since))) since = s;
      if (typeof u === 'string' && (!until || newer(until, u))) until = u;
    }
    node = resolve(next);
  }
  const gate: { since?: string; until?: string } = {};
  if (since) gate.since = since;
  if (until) gate.until = until;
  return gate;
}

function propertyOf(node: SchemaNode, name: string): SchemaNode | undefined {
  const own = isObject(node.properties) ? node.properties[name] : undefined;
  if (isObject(own)) return own;
  // Look into alternatives (multiPathConfig's object form); the branch's gate applies too.
  for (const kw of SCHEMA_LISTS) {
    const list = node[kw];
    if (!Array.isArray(list)) continue;
    for (const branch of list) {
      if (!isObject(branch)) continue;
      const found = propertyOf(resolve(branch), name);
      if (found) return gateFrom(branch, found);
    }
  }
  return undefined;
}

function itemsOf(node: SchemaNode): SchemaNode | undefined {
  if (isObject(node.items)) return node.items;
  for (const kw of SCHEMA_LISTS) {
    const list = node[kw];
    if (!Array.isArray(list)) continue;
    for (const branch of list) {
      if (isObject(branch) && isObject(branch.items)) return gateFrom(branch, branch.items);
    }
  }
  return undefined;
}

/** `found`, carrying the later x-since of `branch` when the branch is newer. */
function gateFrom(branch: SchemaNode, found: SchemaNode): SchemaNode {
  const b = branch['x-since'];
  const f = found['x-since'];
  if (typeof b !== 'string' || (typeof f === 'string' && !newer(b, f))) return found;
  return { ...found, 'x-since': b };
}

function resolve(node: SchemaNode): SchemaNode {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/definitions/')) return node;
  const defs = FULL.definitions;
  const target = isObject(defs) ? defs[ref.slice('#/definitions/'.length)] : undefined;
  return isObject(target) ? target : node;
}

/** True when release line `a` is newer than `b` (numerically: '1.10' is newer than '1.9'). */
function newer(a: string, b: string): boolean {
  const [aMaj = 0, aMin = 0] = a.split('.').map(Number);
  const [bMaj = 0, bMin = 0] = b.split('.').map(Number);
  return aMaj > bMaj || (aMaj === bMaj && aMin > bMin);
}

function toIssues(errors: readonly ErrorObject[], config: unknown, minor: string): InstallerSchemaIssue[] {
  // An unmatched anyOf is reported once, with its own message, not with every branch's failure.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const issues: InstallerSchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    const issue = toIssue(e, config, minor);
    const id = JSON.stringify(issue);
    if (seen.has(id)) continue;
    seen.add(id);
    issues.push(issue);
  }
  return issues;
}

function toIssue(e: ErrorObject, config: unknown, minor: string): InstallerSchemaIssue {
  const path = toPath(e.instancePath, config);
  const params = e.params as Record<string, unknown>;
  const custom = customMessage(e);
  if (e.keyword === 'additionalProperties') {
    const key = String(params.additionalProperty);
    return { path, keyword: e.keyword, key, message: unknownKeyMessage([...path, key], minor) };
  }
  if (e.keyword === 'required') {
    const key = String(params.missingProperty);
    const message = custom ? `missing key "${key}" (${custom})` : `missing required key "${key}"`;
    return { path, keyword: e.keyword, key, message };
  }
  if (typeof e.propertyName === 'string') {
    // Error inside propertyNames: the offending value is the key itself.
    return { path, keyword: e.keyword, key: e.propertyName, message: `key "${e.propertyName}" ${custom ?? e.message ?? 'is invalid'}` };
  }
  const note = isObject(e.parentSchema) ? e.parentSchema['x-note'] : undefined;
  const message = custom ?? defaultMessage(e, params);
  return { path, keyword: e.keyword, message: typeof note === 'string' ? `${message} (${note})` : message };
}

function customMessage(e: ErrorObject): string | undefined {
  const parent = e.parentSchema;
  const messages = isObject(parent) ? parent['x-message'] : undefined;
  const m = isObject(messages) ? messages[e.keyword] : undefined;
  return typeof m === 'string' ? m : undefined;
}

function defaultMessage(e: ErrorObject, params: Record<string, unknown>): string {
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'not':
      return 'must not be set';
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

function unknownKeyMessage(path: readonly (string | number)[], minor: string): string {
  const key = String(path[path.length - 1]);
  const dotted = path.filter((s) => typeof s === 'string').join('.');
  const reason = NOT_EMITTED[dotted];
  if (reason) return `unknown key "${key}" (${reason})`;
  const gate = keyGate(path);
  if (gate?.since && newer(gate.since, minor)) {
    return `unknown key "${key}" (not known by Harvester v${minor}; added in v${gate.since})`;
  }
  if (gate?.until && !newer(gate.until, minor)) {
    return `unknown key "${key}" (not known by Harvester v${minor}; removed in v${gate.until})`;
  }
  const spelling = harvgenSpelling(path.slice(0, -1), key);
  if (spelling) return `key "${key}" is another spelling of "${spelling}"; harvgen takes only "${spelling}"`;
  return `unknown key "${key}"`;
}

/**
 * The key of the object at `parent` that `key` spells another way: case, underscores and a plural
 * `s`/`es` aside. The installer's own names are camelCase (config.go's JSON tags), and its
 * FuzzyNames renamer (pkg/config/rename.go) takes their lowercase, snake_case and singular forms;
 * harvgen writes one spelling per key, so it names the one to use.
 */
function harvgenSpelling(parent: readonly (string | number)[], key: string): string | undefined {
  let node: SchemaNode | undefined = FULL;
  for (const seg of parent) {
    const next: SchemaNode | undefined = node && (typeof seg === 'number' ? itemsOf(node) : propertyOf(node, seg));
    node = next && resolve(next);
  }
  if (!node || !isObject(node.properties)) return undefined;
  const fold = (k: string): string => k.replace(/_/g, '').toLowerCase();
  const want = fold(key);
  return Object.keys(node.properties).find((name) => {
    const f = fold(name);
    return f === want || f === `${want}s` || f === `${want}es`;
  });
}

/** JSON pointer -> path segments; array indices become numbers (decided by walking the data). */
function toPath(pointer: string, data: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  if (pointer === '') return path;
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = Number(seg);
      path.push(i);
      cur = cur[i];
    } else {
      path.push(seg);
      cur = isObject(cur) ? cur[seg] : undefined;
    }
  }
  return path;
}

function isObject(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
