// `harvgen discover`: the unknown machines of the boot servers' logs (a 404 for their script, and
// with `boot.report` what unknown.ipxe reported of them) as node file stubs, written for review
// into `<site>/discovered/`, which the site does not load: a discovered machine joins the
// inventory only when someone moves its file into `nodes/` and commits it.
import { lstatSync, mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../durable/index.ts';
import { join, relative, sep } from 'node:path';
import { packageFile } from '../util/package-root.ts';
import type { UnknownMachine } from './types.ts';
import { statusOfLogs, type StatusOptions } from './index.ts';
import { measuredMatch, measuredStub, type MeasuredMatch } from './discover-measured.ts';
import type { Diagnostic } from '../diagnostics/types.ts';

/** Where stubs go, under the site directory (not `nodes/`: never loaded). */
export const DISCOVERED_DIR = 'discovered';

/** The node schema of the harvgen that runs (src/ and dist/ are both one level below the package root). */
const NODE_SCHEMA = packageFile('schema', 'node.schema.json');

/** The modeline's schema path for a stub in `dir`: relative, so it holds wherever harvgen is installed (node_modules/harvgen, a checkout). */
export function schemaPathFrom(dir: string): string {
  return relative(dir, NODE_SCHEMA).split(sep).join('/');
}

/** First line of every stub harvgen writes. */
const HEADER = '# harvgen discover: a machine the site does not know yet.';

export interface DiscoverOptions extends StatusOptions {
  /** Write the stubs (false: only say what would be written). */
  readonly write: boolean;
  /** Where paths are shown relative to (default process.cwd()). */
  readonly cwd?: string;
}

export interface DiscoveredMachine extends UnknownMachine {
  /** The stub's path (relative to cwd), whether this run wrote it, and whether one was there already (kept as it is). */
  readonly stub: string;
  readonly written: boolean;
  readonly kept: boolean;
}

export interface DiscoverResult {
  readonly sites: readonly { readonly dir: string; readonly site?: string; readonly diagnostics: readonly Diagnostic[] }[];
  readonly unknown: readonly DiscoveredMachine[];
  readonly diagnostics: readonly Diagnostic[];
  readonly requests: number;
  /** What the run left out (a site's unknown MACs past the most it lists). */
  readonly notes: readonly string[];
  /** Requests judged harvgen verify's, left out (src/status/verify-requests.ts). */
  readonly verifyRequests: number;
}

/**
 * A reported value as a YAML comment's text: what an unknown machine reports is anyone's input,
 * so only printable ASCII is kept (no line break can start a key), at most 80 characters.
 */
export function commentText(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}

/**
 * The hostname a stub suggests: `new-` and the whole MAC (a DNS label), so that no two MACs share a
 * stub (with its last three bytes alone, a forged MAC sent first owned the real machine's stub).
 */
export function suggestedHostname(mac: string): string {
  return `new-${mac.replaceAll(':', '')}`;
}

/** The most stubs one run writes, over all sites: anyone on a boot network can make up MACs. */
export const MAX_STUBS = 100;

/** The stub of one unknown machine. */
export function stubText(u: UnknownMachine, siteDirName: string, schemaPath: string, measured?: MeasuredMatch): string {
  // Named by its MAC even when facts name the machine: a machine that reports a measured one's MAC
  // or UUID first must not take the name of its stub.
  const host = suggestedHostname(u.mac);
  // Only a MAC of the facts names the node: a UUID alone is a claim (measuredStub).
  const name = measured?.by === 'mac' ? measured.hostname : '<hostname>';
  const stub = measured ? measuredStub(measured, commentText) : { comments: [], fields: [] };
  const r = u.report ?? {};
  const facts = [
    r.manufacturer && `manufacturer ${commentText(r.manufacturer)}`,
    r.product && `product ${commentText(r.product)}`,
    r.serial && `serial ${commentText(r.serial)}`,
    r.uuid && `SMBIOS UUID ${commentText(r.uuid)}`,
    r.platform && `firmware ${commentText(r.platform)}`,
  ].filter(Boolean);
  return [
    HEADER,
    `# yaml-language-server: $schema=${schemaPath}`,
    `# MAC ${u.mac} asked for its script ${u.requests} time(s), ${u.first} .. ${u.last}, from ${u.ips.map(commentText).join(', ')}.`,
    ...(facts.length > 0
      ? [`# It reported: ${facts.join(', ')}.`]
      : ['# It reported nothing else (boot.report off, or boot.unknown is not wait).']),
    ...stub.comments,
    '# Not part of the inventory: review it (hostname, ip, install.device, role), then move it:',
    // `mv`, not `git mv`: the stub is not tracked (git mv refuses an untracked file).
    `#   mv ${siteDirName}/${DISCOVERED_DIR}/${host}.yaml ${siteDirName}/nodes/${name}.yaml && git add ${siteDirName}/nodes/${name}.yaml`,
    ...stub.fields.slice(0, 1),
    `macs: [${u.mac}]`,
    ...stub.fields.slice(1),
    '',
  ].join('\n');
}

/** Read the logs and write (or show) a stub per unknown machine of each site. */
export async function discover(options: DiscoverOptions): Promise<DiscoverResult> {
  const cwd = options.cwd ?? process.cwd();
  const { models, ...result } = await statusOfLogs(options);
  const out: DiscoveredMachine[] = [];
  const diagnostics: Diagnostic[] = [];
  let written = 0;
  let capped = 0;
  for (const s of result.sites) {
    if (s.site === undefined) continue;
    const dir = join(s.dir, DISCOVERED_DIR);
    // `discovered/` is a directory of the site, never a link that would send the stubs elsewhere.
    const unsafe = options.write ? unsafeDir(dir) : undefined;
    if (unsafe !== undefined)
      diagnostics.push({
        code: 'DISCOVER_DIR_UNSAFE',
        severity: 'error',
        file: dir,
        message: `${dir} ${unsafe}: no stub was written there`,
        hint: `Make ${DISCOVERED_DIR}/ a plain directory of the site (or remove it: discover creates it).`,
      });
    const model = models.find((m) => m.site === s.site);
    for (const u of result.unknown.filter((x) => x.site === s.site)) {
      const measured = model ? measuredMatch(model, u) : undefined;
      const file = join(dir, `${suggestedHostname(u.mac)}.yaml`);
      const text = stubText(u, relative(cwd, s.dir) || '.', schemaPathFrom(dir), measured);
      // A stub that is there already (or a link in its place) may have been edited: never overwritten.
      const there = unsafe === undefined && lstatSync(file, { throwIfNoEntry: false }) !== undefined;
      const fresh = options.write && unsafe === undefined && !there;
      const write = fresh && written < MAX_STUBS;
      if (fresh && !write) capped++;
      if (write) {
        mkdirSync(dir, { recursive: true });
        writeFileAtomic(file, text);
        written++;
      }
      out.push({ ...u, stub: relative(cwd, file), written: write, kept: there });
    }
  }
  if (capped > 0)
    diagnostics.push({
      code: 'DISCOVER_CAPPED',
      severity: 'warning',
      message: `${written} stubs written, the most one run writes; ${capped} more unknown MAC(s) got none this run`,
      hint: 'Review and move or delete the stubs written, then run discover again (or look at who sends these MACs: anyone on the boot network can make them up).',
    });
  return {
    sites: result.sites,
    unknown: out,
    diagnostics: [...result.diagnostics, ...diagnostics],
    requests: result.requests,
    verifyRequests: result.verifyRequests,
    notes: result.notes ?? [],
  };
}

/** Why stubs may not go into `dir` (a link, or not a directory), or undefined (a directory, or none yet). */
function unsafeDir(dir: string): string | undefined {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (st === undefined || st.isDirectory()) return undefined;
  return st.isSymbolicLink() ? 'is a symbolic link' : 'is not a directory';
}
