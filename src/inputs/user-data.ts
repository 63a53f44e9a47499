// cloud-init user-data files (`cloud_init.user_data_file`): read once per compile, after
// validation (the validated model says which nodes name one), checked as a `#cloud-config`
// document (first line, then a YAML map), stamped like every other input.
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isCollection, isNode, parseDocument, visit } from 'yaml';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SiteModel } from '../model/index.ts';
import { readBounded } from '../load/files.ts';
import type { Locator } from '../load/locate.ts';
import { outsideProblem, repoBoundary, type RepoBoundary } from '../load/repo.ts';
import { stampOf, type InputStamp } from '../load/stamps.ts';
import { MAX_USER_DATA_BYTES } from '../util/limits.ts';
import { findingToDiagnostic } from '../validate/finding.ts';

/** The texts of the user-data files by path as written, problems, and their stamps. */
export interface LoadedUserData {
  readonly files: Map<string, string>;
  readonly diagnostics: Diagnostic[];
  readonly stamps: InputStamp[];
}

/**
 * Read every `user_data_file` the site's generic nodes name: relative to the site directory and,
 * like every file the inventory names, inside the repository boundary (`repo`, else computed with
 * `repoBoundary`) by its real path, so that an inventory cannot publish an arbitrary file of the
 * build machine through nginx.
 */
export function loadUserDataFiles(
  model: SiteModel,
  siteDir: string,
  locate: Locator,
  repo: RepoBoundary = repoBoundary(siteDir),
): LoadedUserData {
  const out: LoadedUserData = { files: new Map(), diagnostics: [], stamps: [] };
  const reported = new Set<string>();
  for (const node of model.nodes) {
    if (node.boot !== 'os') continue;
    const given = node.cloudInit.userDataFile;
    if (given === undefined || out.files.has(given) || reported.has(given)) continue;
    const read = readUserData(given, resolve(siteDir, given), repo, out.stamps);
    if ('text' in read) {
      out.files.set(given, read.text);
      continue;
    }
    reported.add(given);
    const finding = {
      code: 'CLOUD_INIT_INVALID' as const,
      message: `cloud_init.user_data_file ${given} (node ${node.hostname}): ${read.problem}`,
      hint: 'Give a file whose first line is `#cloud-config` followed by a YAML map, or write the map inline as `user_data:`.',
      at: node.sources['cloud_init.user_data_file'] ?? ['nodes', node.index],
    };
    out.diagnostics.push(findingToDiagnostic(finding, locate));
  }
  return out;
}

/** One user-data file's text, or what is wrong with it; its stamp is added to `stamps`. */
function readUserData(given: string, file: string, repo: RepoBoundary, stamps: InputStamp[]): { text: string } | { problem: string } {
  if (isAbsolute(given)) return { problem: 'is an absolute path (write it relative to the site directory, inside the repository)' };
  const outside = outsideProblem(file, repo);
  if (outside !== undefined) {
    stamps.push(stampOf(file, undefined));
    return { problem: outside };
  }
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    stamps.push(stampOf(file, undefined));
    return { problem: `${file} does not exist or cannot be read` };
  }
  // Stamped under the path as written: what the up-to-date check looks at again.
  const read = readBounded(real, MAX_USER_DATA_BYTES, true, file);
  stamps.push(read.stamp);
  if (!('bytes' in read)) return { problem: read.missing ? `${file} does not exist or cannot be read` : read.problem };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read.bytes);
  } catch {
    return { problem: 'is not UTF-8 text' };
  }
  if (!/^#cloud-config[ \t]*\r?\n/.test(text)) return { problem: 'does not start with a `#cloud-config` line' };
  const problem = cloudConfigProblem(text);
  return problem === undefined ? { text } : { problem };
}

/**
 * What keeps a `#cloud-config` text from being plain data as cloud-init's safe_load reads it (no
 * tags such as `!!python/...`, no complex keys, no warnings), a YAML map.
 */
function cloudConfigProblem(text: string): string | undefined {
  const parsed = parseDocument(text, { uniqueKeys: true, strict: true });
  let tagged: string | undefined;
  visit(parsed, {
    Node(_, node) {
      if (isNode(node) && node.tag !== undefined) tagged = node.tag;
    },
    Pair(_, pair) {
      if (isCollection(pair.key)) tagged = 'a complex (map or list) key';
    },
  });
  if (parsed.errors.length > 0 || parsed.warnings.length > 0) {
    return `is not valid YAML: ${(parsed.errors[0] ?? parsed.warnings[0])!.message.split('\n')[0]}`;
  }
  if (tagged !== undefined) return `uses ${tagged.startsWith('a ') ? tagged : `the YAML tag ${tagged}`}; cloud-init reads plain data only`;
  let doc: unknown;
  try {
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return `is not valid YAML: ${(e as Error).message.split('\n')[0]}`;
  }
  if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) return 'is not a YAML map';
  return undefined;
}
