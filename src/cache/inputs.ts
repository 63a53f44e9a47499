// Which input files of a site the up-to-date record binds by content, besides their stamps, and
// the keyed digest of that content: the record is written with them (write.ts) and holds only
// while they are unchanged (index.ts).
import { statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { inputBytes, type InputStamp } from '../load/stamps.ts';
import { stateMac } from './key.ts';
import type { SiteRecord } from './record.ts';

/**
 * Largest input file outside the YAML inventory whose content the record binds (secret files,
 * at most 64 KiB, and cloud-init user-data files, at most 256 KiB; small iPXE binaries too).
 */
const MAX_CONTENT_BOUND = 256 * 1024;

/**
 * For the site in `siteDir`: whether an input file's content is bound by the record (besides its
 * stamp): every file that is not part of the YAML inventory (site.yaml, nodes/ and facts/, the
 * shared layers), that is secret files, user-data files and small iPXE binaries, so that a token
 * rotation is noticed even on a file system whose timestamps do not change (a FUSE secret store,
 * vfat). The YAML files are many and read on every no-op build: their stamps, which the MAC keeps
 * from being forged, are enough there.
 */
export function contentBound(siteDir: string): (stamp: InputStamp) => boolean {
  const inventory = inventoryInput(siteDir);
  return (stamp) => stamp[1] >= 0 && stamp[1] <= MAX_CONTENT_BOUND && !inventory(stamp[0]);
}

/**
 * For the site in `siteDir`: whether an input path is part of its YAML inventory (site.yaml,
 * nodes/ and facts/, the shared layers), which git tracks; the others (secret files, user-data,
 * iPXE binaries) are bound by content.
 */
export function inventoryInput(siteDir: string): (path: string) => boolean {
  // The inventory's places, made once per site (not four paths for each of 10,000 stamps).
  const sites = dirname(siteDir);
  const siteYaml = join(siteDir, 'site.yaml');
  const nodes = join(siteDir, 'nodes') + sep;
  const facts = join(siteDir, 'facts') + sep;
  const repoDefaults = join(sites, '_defaults.yaml');
  const profiles = join(sites, '_profiles') + sep;
  return (path) => {
    const yaml = /\.ya?ml$/.test(path);
    return (
      path === siteYaml ||
      (yaml && (path.startsWith(nodes) || path.startsWith(facts))) ||
      path === repoDefaults ||
      (yaml && path.startsWith(profiles))
    );
  };
}

/** The keyed digest of an input file's content now, or undefined when it is not a regular file of its stamp's size. */
export function contentDigest(stamp: InputStamp): string | undefined {
  const bytes = inputBytes(stamp[0], stamp[1]);
  return bytes && stateMac('input', bytes);
}

/** True while every bound input (a non-empty digest, same index) still has its content: the up-to-date record's and publish's state's. */
export function contentsHold(record: Pick<SiteRecord, 'inputs' | 'digests'>): boolean {
  return record.digests.every((d, i) => d === '' || (record.inputs[i] !== undefined && contentDigest(record.inputs[i]!) === d));
}

/**
 * The digests `contentsHold` checks, for the inputs of the site in `siteDir`: the keyed digest of
 * each bound regular file, `''` for the others; undefined when a bound file changed since it was
 * stamped (nothing to vouch for).
 */
export function boundDigests(siteDir: string, inputs: readonly InputStamp[]): string[] | undefined {
  const bound = contentBound(siteDir);
  const digests: string[] = [];
  for (const s of inputs) {
    if (!bound(s) || statSync(s[0], { throwIfNoEntry: false })?.isFile() !== true) {
      digests.push('');
      continue;
    }
    const d = contentDigest(s);
    if (d === undefined) return undefined;
    digests.push(d);
  }
  return digests;
}
