// The fleet record of a site (`published/<site>.json`, docs/dev/fleet-format.md): its shape, its
// bytes as written, and writing it atomically (a reader sees the old record or the new one).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../durable/index.ts';
import { regularFile } from '../util/lstat.ts';
import { readBounded } from '../util/read-bounded.ts';
import type { SiteArtifact } from './artifact.ts';

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
