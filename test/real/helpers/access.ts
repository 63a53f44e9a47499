/**
 * Checks a served tree against the access rules a manifest.json records (`files[].allow`), as
 * machines on the site's network see it: from inside a network namespace, each request from its
 * own source address (added to the namespace's `lo`). A protected file must be 200 with its exact
 * bytes from every address it allows (one address per allowed block, and the last of the pool)
 * and 403 from any other (an address of the network that is no node's, and another node's
 * address); an open file must be 200 from both. Returns what is wrong, so a test can also show
 * that a tree with the rules removed is caught.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIpv4, inNetwork, parseCidr, parseIpv4 } from '../../../src/util/ipv4.ts';
import type { Manifest } from '../../../src/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import type { Netns } from './netns.ts';
import { describe, run } from './proc.ts';

/** One request as the fetcher makes it. */
export interface FetchRequest {
  readonly path: string;
  /** Source address (must be on the namespace's lo). */
  readonly from: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A file to write the body to (whatever the status). */
  readonly save?: string;
}

/** One answer: status, body SHA-256 and size (status 0 and `error` when no answer came). */
export interface FetchResult {
  readonly status: number;
  readonly sha256?: string;
  readonly size?: number;
  readonly contentType?: string;
  readonly error?: string;
}

const FETCHER = path.join(import.meta.dirname, 'fetch-from.mjs');
const added = new WeakMap<Netns, Set<string>>();

/** Give the namespace's lo these addresses (each once). */
export async function addAddresses(ns: Netns, addresses: readonly string[]): Promise<void> {
  const have = added.get(ns) ?? new Set<string>();
  added.set(ns, have);
  for (const a of addresses) {
    if (have.has(a)) continue;
    await ns.sh(['ip', 'addr', 'add', `${a}/32`, 'dev', 'lo']);
    have.add(a);
  }
}

/** GET every request from inside the namespace (one node process for all of them, in order). */
export async function fetchFrom(
  ns: Netns,
  server: { host: string; port: number },
  requests: readonly FetchRequest[],
): Promise<FetchResult[]> {
  await addAddresses(ns, [...new Set(requests.map((r) => r.from))]);
  const file = path.join(tempDir('fetch'), 'requests.json');
  await writeFile(file, JSON.stringify({ ...server, requests }));
  const r = await run(ns.exec([process.execPath, FETCHER, file]), { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`fetcher failed\n${describe(r)}`);
  const results = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as FetchResult[];
  if (results.length !== requests.length) throw new Error(`fetcher answered ${results.length} of ${requests.length} requests`);
  return results;
}

/** True when the address lies in one of the allow entries (addresses or CIDR blocks). */
export function allows(allow: readonly string[], address: string): boolean {
  const ip = parseIpv4(address);
  return ip !== undefined && allow.some((a) => inNetwork(ip, parseCidr(a.includes('/') ? a : `${a}/32`).net!));
}

/** Addresses a test client uses for an allow list: the first of each block, and the last of the last block. */
export function sampleAddresses(allow: readonly string[]): string[] {
  const out = allow.map((a) => a.split('/')[0]!);
  const last = allow.at(-1);
  if (last?.includes('/')) out.push(formatIpv4(parseCidr(last).net!.broadcast));
  return [...new Set(out)];
}

/** An address of `cidr` that no allow list holds and that is not one of `taken` (the server, gateway, VIP). */
export function outsider(cidr: string, manifest: Manifest, taken: readonly string[]): string {
  const net = parseCidr(cidr).net!;
  const allowLists = manifest.files.flatMap((f) => (f.allow ? [f.allow] : []));
  for (let ip = net.address + 2; ip < net.broadcast; ip++) {
    const a = formatIpv4(ip);
    if (!taken.includes(a) && !allowLists.some((l) => allows(l, a))) return a;
  }
  throw new Error(`no free address in ${cidr}`);
}

/** What a served tree got wrong about access, and how many requests and protected files it took. */
export interface AccessReport {
  readonly problems: string[];
  readonly requests: number;
  readonly protectedFiles: number;
  readonly openFiles: number;
}

/**
 * Fetch every served file of `expected` (a manifest.json: the rules the tree must enforce) from
 * the addresses that may and may not have it, and compare with `expected`'s bytes.
 */
export async function accessProblems(o: {
  ns: Netns;
  server: { host: string; port: number };
  expected: Manifest;
  /** An address of the network that is no node's. */
  other: string;
}): Promise<AccessReport> {
  const served = o.expected.files.filter((f) => f.url !== undefined);
  const guarded = served.filter((f) => f.allow !== undefined);
  const nodeAddresses = [...new Set(guarded.flatMap((f) => f.allow!.filter((a) => !a.includes('/'))))];
  const checks: { req: FetchRequest; file: (typeof served)[number]; want: 200 | 403; who: string }[] = [];
  for (const f of served) {
    const p = new URL(f.url!).pathname;
    if (f.allow === undefined) {
      for (const from of [o.other, ...nodeAddresses.slice(0, 1)])
        checks.push({ req: { path: p, from }, file: f, want: 200, who: from === o.other ? 'no node' : 'a node' });
      continue;
    }
    for (const from of sampleAddresses(f.allow)) checks.push({ req: { path: p, from }, file: f, want: 200, who: 'allowed' });
    checks.push({ req: { path: p, from: o.other }, file: f, want: 403, who: 'no node' });
    const stranger = nodeAddresses.find((a) => !allows(f.allow!, a));
    if (stranger) checks.push({ req: { path: p, from: stranger }, file: f, want: 403, who: 'another node' });
  }
  const results = await fetchFrom(
    o.ns,
    o.server,
    checks.map((c) => c.req),
  );
  const problems: string[] = [];
  checks.forEach((c, i) => {
    const r = results[i]!;
    const where = `GET ${c.req.path} from ${c.req.from} (${c.who})`;
    if (r.status !== c.want) problems.push(`${where}: ${r.status || r.error}, expected ${c.want}`);
    else if (c.want === 200 && r.sha256 !== c.file.sha256)
      problems.push(`${where}: 200 but the body (${r.size} bytes) is not ${c.file.path}`);
    // The node's files are text (YAML, NoCloud): what the installer and cloud-init read.
    else if (c.want === 200 && c.file.allow && !/^text\/plain(;|$)/.test(r.contentType ?? ''))
      problems.push(`${where}: Content-Type ${r.contentType}, expected text/plain`);
  });
  return { problems, requests: checks.length, protectedFiles: guarded.length, openFiles: served.length - guarded.length };
}
