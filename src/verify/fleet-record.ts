// The fleet record in git (docs/dev/fleet-format.md, "The fleet record in git"), as `verify --fleet`
// reads it: one `<site>.json` per site naming its boot server, the artifact digest it should
// serve and a sample of its public files. Every value is checked before it is used: a record is
// untrusted data (its size, its site against its file name, URLs, digests, plain paths).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isSafeRelativePath } from '../render/artifact.ts';
import { DIGEST_RE, SOURCE_RE, TAG_RE } from '../oci/ref.ts';
import { baseUrlFault, type BaseUrlFault } from '../util/base-url.ts';
import { readRegularFile } from '../util/read-bounded.ts';

/** What one `<site>.json` of the fleet record says (unknown keys are ignored: fields are only added). */
export interface FleetRecord {
  /** The record file. */
  readonly file: string;
  readonly site: string;
  readonly boot_server: string;
  /** `sha256:<hex>`: the site artifact's index digest git says the site serves. */
  readonly digest: string;
  readonly repository: string;
  readonly tag: string;
  /** Public files of the tree to fetch and compare (never a sealed one, never a release file). */
  readonly sample: readonly { readonly path: string; readonly sha256: string; readonly size: number }[];
  /** With `failover:`: each boot server at its own address (`boot_server` is the shared one); checked each. */
  readonly servers: readonly string[];
}

/** Every boot server a record names, each checked: the shared address (`boot_server`) first, then each server's own. */
export function recordServers(rec: FleetRecord): string[] {
  return [rec.boot_server, ...rec.servers];
}

/** The most boot servers a record names besides `boot_server`. */
const SERVERS_MAX = 8;

/** The most records a fleet record directory holds. */
const RECORDS_MAX = 100_000;

/** A record file larger than this is not a fleet record. */
const RECORD_MAX_BYTES = 1 << 20;
/** The most sample files a record may name (publish writes up to 16). */
const SAMPLE_MAX = 16;
/** A site's name as site.yaml allows it (a record's `site`, a verified site). */
export const SITE_NAME = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;

/** The record files of `dir` (`*.json`, by name) and the problems that stop the run (no directory, no record). */
export function listFleetRecords(dir: string): { files: string[]; problem?: string } {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      files: [],
      problem:
        code === 'ENOENT'
          ? `${dir} does not exist`
          : code === 'ENOTDIR'
            ? `${dir} is not a directory`
            : `${dir} cannot be read (${code ?? (e as Error).message})`,
    };
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length > RECORDS_MAX)
    return { files: [], problem: `${dir} holds ${names.length} records; a fleet record holds at most ${RECORDS_MAX}` };
  if (names.length === 0)
    return { files: [], problem: `${dir} holds no <site>.json (the fleet record \`harvgen publish --record\` writes)` };
  return { files: names.map((n) => join(dir, n)) };
}

/** One record file, checked: its values or why it is not a fleet record. */
export function readFleetRecord(file: string): { record: FleetRecord } | { problem: string } {
  let raw: unknown;
  const read = readRegularFile(file, RECORD_MAX_BYTES, { follow: true });
  if ('problem' in read) {
    if (read.problem === 'unreadable') return { problem: `cannot be read (${read.code})` };
    if (read.problem === 'not-file') return { problem: 'is not a regular file' };
    if (read.problem === 'too-large') return { problem: `is larger than ${RECORD_MAX_BYTES} bytes: not a fleet record` };
    return { problem: 'changed while it was read' };
  }
  try {
    raw = JSON.parse(Buffer.from(read.bytes).toString('utf8'));
  } catch (e) {
    return { problem: `is not JSON (${(e as Error).message})` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problem: 'is not a JSON object' };
  const r = raw as Record<string, unknown>;
  const stem = file.slice(file.lastIndexOf('/') + 1).replace(/\.json$/, '');
  if (typeof r.site !== 'string' || !SITE_NAME.test(r.site)) return { problem: '`site` is not a site name' };
  if (r.site !== stem) return { problem: `names the site ${r.site}; the record of a site is <site>.json (${r.site}.json)` };
  const fault = typeof r.boot_server === 'string' ? urlFault(r.boot_server) : 'not-url';
  if (fault !== undefined || typeof r.boot_server !== 'string')
    return { problem: `\`boot_server\` ${BOOT_SERVER_PROBLEM[fault ?? 'not-url']}` };
  if (typeof r.digest !== 'string' || !DIGEST_RE.test(r.digest)) return { problem: '`digest` is not sha256:<64 hex digits>' };
  if (typeof r.repository !== 'string' || !SOURCE_RE.test(r.repository))
    return { problem: '`repository` is not a registry repository (`<registry>/<path>`)' };
  if (typeof r.tag !== 'string' || !TAG_RE.test(r.tag))
    return { problem: '`tag` is not a tag (at most 128 letters, digits, `_`, `.`, `-`)' };
  if (!Array.isArray(r.sample)) return { problem: '`sample` is not a list' };
  if (r.sample.length > SAMPLE_MAX) return { problem: `\`sample\` names ${r.sample.length} files; a record samples at most ${SAMPLE_MAX}` };
  const sample: FleetRecord['sample'][number][] = [];
  for (const [i, s] of (r.sample as unknown[]).entries()) {
    const e = s as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || !isSafeRelativePath(e.path))
      return { problem: `\`sample[${i}].path\` is not a plain path of the tree` };
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))
      return { problem: `\`sample[${i}].sha256\` is not 64 hex digits` };
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0)
      return { problem: `\`sample[${i}].size\` is not a size in bytes` };
    sample.push({ path: e.path, sha256: e.sha256, size: e.size });
  }
  const servers: string[] = [];
  if (r.servers !== undefined) {
    if (!Array.isArray(r.servers) || r.servers.length > SERVERS_MAX)
      return { problem: `\`servers\` is not a list of at most ${SERVERS_MAX} boot server URLs` };
    for (const [i, u] of (r.servers as unknown[]).entries()) {
      const bad = typeof u === 'string' ? urlFault(u) : 'not-url';
      if (bad !== undefined || typeof u !== 'string') return { problem: `\`servers[${i}]\` ${BOOT_SERVER_PROBLEM[bad ?? 'not-url']}` };
      servers.push(u);
    }
  }
  return {
    record: { file, site: r.site, boot_server: r.boot_server, digest: r.digest, repository: r.repository, tag: r.tag, sample, servers },
  };
}

/** The longest boot server URL a record may name. */
const URL_MAX = 2048;

/** What is wrong with a record's boot server URL (a URL that long is none). */
const urlFault = (u: string): BaseUrlFault | undefined => (u.length > URL_MAX ? 'not-url' : baseUrlFault(u));

/** Why a boot server URL is not one to check (undefined: it is one). */
const BOOT_SERVER_PROBLEM: Readonly<Record<BaseUrlFault, string>> = {
  'not-url': 'is not a URL',
  scheme: 'is not an http:// or https:// URL',
  parts: 'has a query, fragment or credentials',
};
