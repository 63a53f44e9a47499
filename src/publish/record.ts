// The fleet record of a site (`published/<site>.json`, docs/dev/fleet-format.md): its shape, its
// bytes as written, and writing it atomically (a reader sees the old record or the new one).
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../durable/index.ts';
import { regularFile } from '../util/lstat.ts';
import { readBounded } from '../util/read-bounded.ts';
import { sha256, type SiteArtifact } from './artifact.ts';
import { namespaceOf } from './fleet-store.ts';

/** The fleet record of one site (`published/<site>.json`, docs/dev/fleet-format.md). */
export interface FleetRecord {
  readonly boot_server: string;
  readonly digest: string;
  readonly repository: string;
  readonly sample: SiteArtifact['sample'];
  /** With `failover:`: each boot server at its own address (verify --fleet checks each). */
  readonly servers?: readonly string[];
  readonly site: string;
  /** `sha256:<hex>` of the site's entry in the registry's fleet state (src/publish/fleet-state.ts), when it has one. */
  readonly state?: string;
  readonly tag: string;
}

/** The record's bytes as written (and compared with what is on disk). */
export const recordText = (record: FleetRecord) => `${JSON.stringify(record, null, 2)}\n`;

/** Write `<dir>/<site>.json` atomically: a reader sees the old record or the new one. */
export function writeRecord(dir: string, record: FleetRecord): void {
  writeRecordText(join(dir, `${record.site}.json`), recordText(record));
}

/** Write a record's text to `file` atomically, its directory made when missing. */
export function writeRecordText(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileAtomic(file, text);
}

/** A record file's contents, or undefined (missing, not a regular file, too large). */
export function readRecordText(file: string): string | undefined {
  const st = regularFile(file);
  if (!st || st.size > 1024 * 1024) return undefined;
  const bytes = readBounded(file, st.size, { follow: false });
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

/** The record's text without `state`, hashed: what the entry says the committed record holds. */
export function recordDigest(text: string): string | undefined {
  try {
    const { state: _state, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return sha256(Buffer.from(`${JSON.stringify(rest, null, 2)}\n`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** What the committed records in `recordDir` say: the namespaces that hold their entries (with `--registry`, that one alone) and the entries' digests. */
export function recordedStates(
  recordDir: string,
  registry: string | undefined,
): { namespaces: string[]; named: Set<string>; records: Map<string, string> } {
  const namespaces = new Set<string>();
  const named = new Set<string>();
  const records = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(recordDir).filter((n) => n.endsWith('.json'));
  } catch {
    return { namespaces: [], named, records };
  }
  for (const name of names) {
    const text = readRecordText(join(recordDir, name));
    const record = parseRecord(text);
    if (record?.state === undefined) continue;
    namespaces.add(namespaceOf(record.repository));
    named.add(record.state);
    records.set(name.slice(0, -'.json'.length), record.text);
  }
  return { namespaces: registry !== undefined ? [registry] : [...namespaces].sort(), named, records };
}

/** The fields of a committed record this module reads, and its text, or undefined. */
export function parseRecord(text: string | undefined): { repository: string; digest: string; state?: string; text: string } | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as { repository?: unknown; digest?: unknown; state?: unknown };
    if (typeof r.repository !== 'string' || typeof r.digest !== 'string') return undefined;
    return { repository: r.repository, digest: r.digest, ...(typeof r.state === 'string' ? { state: r.state } : {}), text };
  } catch {
    return undefined;
  }
}
