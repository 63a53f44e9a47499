// The promise of manifest.json, checked without running nginx: every file it lists with a URL is
// answered by a location of the tree's own nginx config (chosen as nginx chooses: an exact
// location first, then the regular expressions in order, else `location /`, which is 404), that
// location's alias names that very file, and its address rules are the file's `allow` list (none
// for an open file). Run on every golden tree, the committed out/ trees and every fixture site
// that compiles; a mutation that drops one location must fail it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import { mediaSite } from './helpers/media.ts';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/index.ts';

const repo = join(import.meta.dirname, '..');

interface Location {
  readonly kind: '=' | '~';
  readonly match: string;
  readonly alias?: string;
  readonly allow: readonly string[];
  readonly deny: boolean;
  readonly returns?: string;
}

/** An nginx word as harvgen writes it: bare, or double-quoted. */
const word = (w: string) => (w.startsWith('"') && w.endsWith('"') ? w.slice(1, -1).replace(/\\(.)/g, '$1') : w);

/** The locations of a generated server block, and its root. */
function parseNginx(conf: string): { root: string; locations: Location[] } {
  const root = /^\s*root (.+);$/m.exec(conf)?.[1];
  assert.ok(root, 'the server block has a root');
  const locations: Location[] = [];
  const re = /^\s*location (=|~) ("(?:[^"\\]|\\.)*"|\S+) \{\n([\s\S]*?)^\s*\}$/gm;
  for (const m of conf.matchAll(re)) {
    const body = m[3]!;
    const alias = /^\s*alias (.+);$/m.exec(body)?.[1];
    locations.push({
      kind: m[1] as '=' | '~',
      // A regex location's quotes are nginx's; its backslashes belong to the regex.
      match: m[1] === '~' ? m[2]!.replace(/^"|"$/g, '') : word(m[2]!),
      ...(alias !== undefined ? { alias: word(alias) } : {}),
      allow: [...body.matchAll(/^\s*allow (\S+);$/gm)].map((a) => a[1]!),
      deny: /^\s*deny all;$/m.test(body),
      ...(/^\s*return (\d+)/m.test(body) ? { returns: /^\s*return (\d+)/m.exec(body)![1]! } : {}),
    });
  }
  return { root: word(root), locations };
}

/** The location nginx picks for a request path, and the file it serves from it. */
function resolve(conf: { root: string; locations: readonly Location[] }, path: string): { loc: Location; file?: string } | undefined {
  const exact = conf.locations.find((l) => l.kind === '=' && l.match === path);
  if (exact) return { loc: exact, ...(exact.alias !== undefined ? { file: exact.alias } : {}) };
  for (const l of conf.locations) {
    if (l.kind !== '~') continue;
    const m = new RegExp(l.match).exec(path);
    if (m) return { loc: l, ...(l.alias !== undefined ? { file: l.alias.replace('$1', m[1] ?? '') } : {}) };
  }
  return undefined;
}

interface Manifest {
  boot: { server: string; verifiers?: string[] };
  files: { path: string; url?: string; allow?: string[] }[];
}

/** What is wrong with how `conf` serves the files `manifest` promises (empty: nothing). */
function problems(manifest: Manifest, conf: ReturnType<typeof parseNginx>): string[] {
  const out: string[] = [];
  const prefix = new URL(manifest.boot.server).pathname.replace(/\/+$/, '');
  for (const f of manifest.files) {
    if (f.url === undefined) continue;
    const u = new URL(f.url);
    if (u.origin !== new URL(manifest.boot.server).origin) continue;
    const hit = resolve(conf, u.pathname);
    if (!hit) {
      out.push(`${f.path}: no location answers ${u.pathname} (404)`);
      continue;
    }
    if (hit.loc.returns !== undefined) out.push(`${f.path}: its location returns ${hit.loc.returns}`);
    const want = `${conf.root}/${f.path}`;
    if (hit.file !== want) out.push(`${f.path}: served from ${hit.file ?? '(nothing)'}, not ${want} (prefix ${prefix || '/'})`);
    // A protected file: the boot server itself (boot.verifiers) first, then the file's own fetchers.
    const allow = f.allow !== undefined ? [...(manifest.boot.verifiers ?? []), ...f.allow] : [];
    if (
      JSON.stringify(hit.loc.allow) !== JSON.stringify(allow) ||
      hit.loc.deny !== allow.length > 0 ||
      (f.allow !== undefined && !hit.loc.deny)
    )
      out.push(
        `${f.path}: protection ${JSON.stringify(hit.loc.allow)}${hit.loc.deny ? ' deny all' : ''}, manifest says ${JSON.stringify(f.allow ?? 'open')}`,
      );
  }
  return out;
}

/** Every tree to check: [name, manifest text, nginx server block text]. */
async function trees(): Promise<[string, string, string][]> {
  const out: [string, string, string][] = [];
  const golden = join(repo, 'test/fixtures/build');
  for (const d of readdirSync(golden)) {
    const e = join(golden, d, 'expected');
    if (existsSync(join(e, 'manifest.json')))
      out.push([`golden ${d}`, readFileSync(join(e, 'manifest.json'), 'utf8'), readFileSync(join(e, 'nginx/harvgen.conf'), 'utf8')]);
  }
  for (const d of readdirSync(join(repo, 'out'))) {
    const e = join(repo, 'out', d);
    if (existsSync(join(e, 'manifest.json')))
      out.push([`out ${d}`, readFileSync(join(e, 'manifest.json'), 'utf8'), readFileSync(join(e, 'nginx/harvgen.conf'), 'utf8')]);
  }
  const sites = [
    ...readdirSync(join(repo, 'test/fixtures/real')).map((d) => join(repo, 'test/fixtures/real', d)),
    ...readdirSync(join(repo, 'test/fixtures/check')).map((d) => join(repo, 'test/fixtures/check', d, 'good')),
    // The boot ISO fixture with stand-in boot programs, under each form of access nginx writes for it.
    mediaSite(),
    mediaSite((d) => (d.nginx = { access: 'open' })),
    mediaSite((d) => (d.nginx = { file_key: { env: 'HARVGEN_TEST_FILE_KEY' } })),
    mediaSite((d) => (d.nginx = { access: 'open', file_key: { env: 'HARVGEN_TEST_FILE_KEY' } })),
  ].filter((d) => existsSync(join(d, 'site.yaml')));
  for (const dir of sites) {
    // The deploy tree (what is served): a keyed site's committed tree shows masked tags instead.
    let r = await compileSite(dir, { secrets: 'filled' });
    if (r.artifacts === undefined) r = await compileSite(dir);
    const file = (p: string) => r.artifacts?.find((a) => a.path === p)?.contents;
    const m = file('manifest.json');
    const n = file('nginx/harvgen.conf');
    // A committed tree of a keyed site names files by masked tags that no location serves: it is never served.
    if (typeof m === 'string' && typeof n === 'string' && !m.includes('x'.repeat(32)))
      out.push([`fixture ${dir.slice(repo.length + 1)}`, m, n]);
  }
  return out;
}

process.env.HARVGEN_TEST_TOKEN ??= 'token.12345';
process.env.HARVGEN_TEST_FILE_KEY ??= 'k'.repeat(40);
process.env.HARVGEN_TEST_PASSWORD ??= 'password.12345';

test('every URL manifest.json lists is answered by its own file with its protection, in every tree', async () => {
  const all = await trees();
  assert.ok(all.filter(([n]) => n.startsWith('golden')).length >= 5, 'the golden trees');
  assert.ok(all.filter(([n]) => n.startsWith('fixture')).length >= 40, `${all.length} trees`);
  let urls = 0;
  let protectedFiles = 0;
  let media = 0;
  for (const [name, m, n] of all) {
    const manifest = JSON.parse(m) as Manifest;
    urls += manifest.files.filter((f) => f.url !== undefined).length;
    protectedFiles += manifest.files.filter((f) => f.allow !== undefined).length;
    assert.equal(problems(manifest, parseNginx(n)), [], name);
    media += manifest.files.filter((f) => f.path.startsWith('media/') && f.url !== undefined).length;
  }
  assert.ok(urls > 300 && protectedFiles > 20, `${urls} URLs, ${protectedFiles} protected`);
  assert.ok(media >= 8, `${media} boot ISO URLs`);
});

test('mutation: dropping any one location, or one allow line, breaks the promise', async () => {
  const all = await trees();
  const [name, m, n] = all.find(([x]) => x === 'out location_y')!;
  const manifest = JSON.parse(m) as Manifest;
  const conf = parseNginx(n);
  assert.equal(problems(manifest, conf), [], name);
  const missed: string[] = [];
  // The locations of the tree's own files (release files are served from elsewhere on the disk,
  // and an HTTP boot loader the operator puts next to the tree is no file of it).
  const listed = new Set(manifest.files.map((f) => `${conf.root}/${f.path}`));
  const serving = conf.locations.filter((l) => l.alias !== undefined && (l.kind === '~' || listed.has(l.alias)));
  assert.ok(serving.length >= 7, `${serving.length} locations`);
  for (const drop of serving) {
    const p = problems(manifest, { ...conf, locations: conf.locations.filter((l) => l !== drop) });
    if (p.length === 0) missed.push(drop.match);
  }
  // Every location that serves a file of the tree is needed by some URL the manifest lists.
  assert.equal(missed, [], 'dropped locations not caught');
  const guarded = conf.locations.find((l) => l.allow.length > 0)!;
  const opened = conf.locations.map((l) => (l === guarded ? { ...l, allow: [], deny: false } : l));
  assert.ok(problems(manifest, { ...conf, locations: opened }).length > 0, 'an unprotected config is caught');
});

test.run();
