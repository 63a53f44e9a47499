/**
 * What a reader of a boot image can reach on the boot server: starting from the image's URL, one
 * address fetches it (as a BMC does), reads every URL in the image's files (the ISO's, extracted by
 * xorriso, and those of the FAT image in it, by mtools), follows each, and every URL in what that
 * gets, breadth first, bounded in depth and requests. Every body is searched for the secrets given.
 * Used by test/real/media-access.test.ts.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fetchFrom } from './access.ts';
import type { Netns } from './netns.ts';
import { describe, run } from './proc.ts';

/** A value no answer may hold, with what it is (for the report). */
export interface Secret {
  readonly what: string;
  readonly value: string;
}

/** One request of the crawl and its answer. */
export interface Fetched {
  readonly url: string;
  readonly status: number;
  readonly sha256?: string;
  readonly size?: number;
  /** How many links away from the start. */
  readonly depth: number;
}

/** What the crawl did and found. */
export interface CrawlReport {
  readonly fetched: readonly Fetched[];
  /** What answered with a secret: "<url>: holds <what>". */
  readonly leaks: readonly string[];
  /** URLs on another server (not followed). */
  readonly elsewhere: readonly string[];
  /** URLs read out of images (their scripts). */
  readonly fromImages: readonly string[];
  /** URLs found past the depth bound, not followed (a complete crawl has none). */
  readonly cut: number;
}

/** What cloud-init's NoCloud fetches under a seed URL (`ds=nocloud;s=<url>/`). */
const NOCLOUD = ['meta-data', 'user-data', 'vendor-data', 'network-config'];

/**
 * The URLs a text names: `http(s)://` up to a space, a quote, `;` or `|`; `{a,b}` expanded (a
 * comment's list of a seed's files); a seed directory (a URL ending in `/`) also with NoCloud's
 * file names; without trailing punctuation. A URL holding an iPXE setting (`${...}`) is left out.
 */
export function urlsIn(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/https?:\/\/[^\s"'<>;|\\`]+/g)) {
    const raw = m[0].replace(/[.,)]+$/, '');
    if (raw.includes('${')) continue;
    const brace = /\{([^{}]*)\}/.exec(raw);
    const expanded = brace
      ? brace[1]!.split(',').map((x) => raw.slice(0, brace.index) + x + raw.slice(brace.index + brace[0].length))
      : [raw];
    for (const u of expanded) {
      if (/[{}]/.test(u)) continue;
      out.add(u);
      if (u.endsWith('/')) for (const f of NOCLOUD) out.add(u + f);
    }
  }
  return [...out];
}

/** True for an ISO 9660 image (also the hybrid USB image): `CD001` at byte 0x8001. */
function isIso(bytes: Buffer): boolean {
  return bytes.length > 0x8006 && bytes.toString('latin1', 0x8001, 0x8006) === 'CD001';
}

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

async function must(argv: string[]): Promise<void> {
  const r = await run(argv, { timeoutMs: 60_000, env: { ...process.env, LC_ALL: 'C' } });
  if (r.code !== 0) throw new Error(describe(r));
}

/** The files of an ISO (xorriso) and of every FAT image in it (mtools), extracted under `into`. */
export async function imageFiles(image: string, into: string): Promise<string[]> {
  const iso = path.join(into, 'iso');
  await must(['xorriso', '-osirrox', 'on', '-indev', image, '-extract', '/', iso]);
  const files = filesUnder(iso);
  const fats = files.filter((f) => /\.img$/i.test(f));
  if (fats.length === 0) throw new Error(`${image}: no FAT image in it (${files.join(', ')})`);
  for (const [i, fat] of fats.entries()) {
    const to = path.join(into, `fat-${i}`);
    mkdirSync(to, { recursive: true });
    await must(['mcopy', '-s', '-n', '-i', fat, '::/', to]);
    files.push(...filesUnder(to));
  }
  return files;
}

/** Crawl from `start`, every request from `from`, bodies kept under `dir`. */
export async function crawl(o: {
  ns: Netns;
  server: { host: string; port: number };
  from: string;
  start: readonly string[];
  secrets: readonly Secret[];
  dir: string;
  maxDepth?: number;
  maxRequests?: number;
}): Promise<CrawlReport> {
  const maxDepth = o.maxDepth ?? 6;
  const maxRequests = o.maxRequests ?? 400;
  const origin = `http://${o.server.host}${o.server.port === 80 ? '' : `:${o.server.port}`}`;
  const seen = new Set<string>();
  const fetched: Fetched[] = [];
  const leaks: string[] = [];
  const elsewhere = new Set<string>();
  const fromImages = new Set<string>();
  const look = (url: string, bytes: Buffer) => {
    const text = bytes.toString('latin1');
    for (const s of o.secrets) if (s.value !== '' && text.includes(s.value)) leaks.push(`${url}: holds ${s.what}`);
  };
  let wave = o.start.filter((u) => !seen.has(u) && seen.add(u));
  for (let depth = 0; wave.length > 0 && depth <= maxDepth; depth++) {
    const here = wave.filter((u) => u.startsWith(`${origin}/`));
    for (const u of wave) if (!u.startsWith(`${origin}/`)) elsewhere.add(u);
    if (fetched.length + here.length > maxRequests) throw new Error(`the crawl passed ${maxRequests} requests`);
    const saves = here.map((_, i) => path.join(o.dir, `body-${fetched.length + i}`));
    const answers = here.length
      ? await fetchFrom(
          o.ns,
          o.server,
          here.map((u, i) => ({ path: u.slice(origin.length), from: o.from, save: saves[i]! })),
        )
      : [];
    const next: string[] = [];
    for (const [i, url] of here.entries()) {
      const a = answers[i]!;
      fetched.push({ url, status: a.status, depth, ...(a.sha256 ? { sha256: a.sha256, size: a.size } : {}) });
      if (a.status !== 200) continue;
      const body = readFileSync(saves[i]!);
      look(url, body);
      let found: string[];
      if (isIso(body)) {
        const files = await imageFiles(saves[i]!, path.join(o.dir, `image-${fetched.length}`));
        found = [];
        for (const f of files) {
          const bytes = readFileSync(f);
          look(`${url} (${path.basename(f)})`, bytes);
          found.push(...urlsIn(bytes.toString('latin1')));
        }
        for (const u of found) fromImages.add(u);
      } else found = body.length <= 1024 * 1024 ? urlsIn(body.toString('latin1')) : [];
      for (const u of found) if (!seen.has(u)) (seen.add(u), next.push(u));
    }
    wave = next;
  }
  return { fetched, leaks, elsewhere: [...elsewhere], fromImages: [...fromImages], cut: wave.length };
}
