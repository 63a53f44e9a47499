// After a switch, the materializer checks the local boot server as `harvgen verify` would, from
// the served tree alone (no inventory on the boot server): every served file's bytes, status and
// type, the per-node address rules (a file only its node may fetch must be refused to this host),
// and nothing else answering. The verdict goes into state.json, which nginx serves to the center
// (and to anyone): its problems name keyed files without their key.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { LAYOUT } from '../derive/layout.ts';
import { configIdBody, configIdOf } from '../render/nginx-config-id.ts';
import { verifyTree } from '../verify/index.ts';
import { get, type NetworkError } from '../verify/http.ts';
import { readDeployManifest } from '../verify/manifest.ts';
import { serverFor } from '../verify/plan.ts';
import { readBounded } from '../util/read-bounded.ts';
import type { PullConfig } from './config.ts';
import { releaseProblems } from './releases.ts';
import type { PullState, VersionStore } from './store.ts';

/** How long, after a reload, nginx may take to answer with the new config (`waitForConfig`). */
export const CONFIG_WAIT_MS = 30_000;

/**
 * How long the new id must be the only answer before the wait ends. On a reload nginx's master
 * starts the new workers, sleeps 100 ms, and only then tells the old ones to stop taking
 * connections (src/os/unix/ngx_process_cycle.c): the first answer with the new id can come while
 * an old worker still answers with the old config (test/real/fleet.test.ts fetches a file only
 * the new config serves right after a pull).
 */
const SETTLE_MS = 500;

/** The pause between asks while the new id settles. */
const SETTLE_INTERVAL_MS = 25;

/** How long a server that never answers is asked before verify is left to report it unreachable. */
const UNREACHABLE_AFTER_MS = 3000;

/**
 * How long a port where nothing listens is asked (every ask refused): `nginx -s reload` returns
 * before nginx has read the new config, and a config that adds the port (a site's first pull) opens
 * it only then, which took more than 5 s on a loaded machine (test/pull-config.test.ts).
 */
const REFUSED_FOR_MS = 15_000;

/** The largest nginx config read for its id (a 10,000-node site's is a few MiB). */
const MAX_CONFIG_BYTES = 64 << 20;

/** Problems kept in state.json (the first ones; `harvgen verify` on the boot server shows all). */
const KEEP_PROBLEMS = 5;

export async function verifyServed(
  config: PullConfig,
  store: VersionStore,
  url?: string,
  configWaitMs = CONFIG_WAIT_MS,
): Promise<NonNullable<PullState['verdict']>> {
  const state = store.state();
  const hex = state?.digest?.replace(/^sha256:/, '');
  const tree = hex ? join(config.stateDir, 'versions', hex) : config.root;
  // What the server answers is the new tree's only once nginx runs its config: wait for that first.
  // The release files the tree's URLs name are served from artifacts_dir, outside the tree: each
  // must be there as its signed provenance gives it (src/pull/releases.ts).
  const releases =
    hex !== undefined ? await releaseProblems(config.stateDir, hex, config.site, config.publicKey) : { checked: 0, problems: [] };
  const missing = releases.problems.map((p) => `VERIFY_RELEASE_FILE: ${p} (a release file the served tree's URLs name)`);
  const wait = await waitForConfig(tree, url, configWaitMs);
  if (wait?.kind === 'stale')
    return {
      ok: false,
      checks: 1 + releases.checked,
      failed: 1 + missing.length,
      at: new Date().toISOString(),
      problems: [wait.problem, ...missing].slice(0, KEEP_PROBLEMS),
    };
  const once = () =>
    verifyTree({
      tree,
      site: config.site,
      publicKey: { line: config.publicKey, from: 'public_key of pull.json' },
      ...(url !== undefined ? { urls: [url] } : {}),
      concurrency: 8,
      timeoutMs: 10_000,
    });
  // Right after a reload nginx's old workers close their connections: a request then can be reset.
  // An unreachable server is asked again (twice, a second apart) before it counts.
  let result = await once();
  for (let i = 0; i < 2 && result.diagnostics.some((d) => d.code === 'VERIFY_UNREACHABLE'); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    result = await once();
  }
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  const failed = result.servers.reduce((n, s) => n + s.failed, 0) + (result.servers.length === 0 ? errors.length : 0);
  // A problem that is no check of its own (the server answered nothing it was asked) still counts as one.
  const failedServed = result.ok ? 0 : Math.max(failed, errors.length, 1);
  // `.harvgen/config` silent while the server answers the rest: which config nginx runs is not known,
  // however well the rest answers. (A server that answers nothing is verify's VERIFY_UNREACHABLE.)
  const silent = wait?.kind === 'silent' && !errors.some((d) => d.code === 'VERIFY_UNREACHABLE') ? [wait.problem] : [];
  return {
    ok: result.ok && missing.length === 0 && silent.length === 0,
    checks: Math.max(result.checks, failedServed) + releases.checked + silent.length,
    failed: failedServed + missing.length + silent.length,
    at: new Date().toISOString(),
    problems: [
      ...silent,
      ...missing,
      ...errors.map((d) => redactKeyed(`${d.code}: ${d.file !== undefined ? `${d.file}: ` : ''}${d.message}`)),
    ].slice(0, KEEP_PROBLEMS),
  };
}

/** The tag of a keyed name (`name-<32 hex>.ext`, src/derive/file-names.ts), which only a node may know. */
const KEYED_TAG = /-[0-9a-f]{32}(?![0-9a-f])/g;

/**
 * A problem as state.json may hold it: nginx serves that file to everyone, so every keyed name is
 * written without its tag (`name-<key>.ext`).
 */
export function redactKeyed(text: string): string {
  return text.replace(KEYED_TAG, '-<key>');
}

/** What the wait for the new config found when it did not settle: another answer (`stale`), or no whole answer at all (`silent`); the problem as state.json records it. */
export interface ConfigWaitProblem {
  readonly kind: 'stale' | 'silent';
  readonly problem: string;
}

/**
 * Wait until the boot server runs the tree's nginx config: `nginx -s reload` returns before nginx
 * has read it, and its old workers go on taking new connections for a moment after the new ones
 * answer. LAYOUT.servedConfig answers the id of the config nginx runs (src/render/nginx-config-id.ts):
 * the tree's nginx/harvgen.conf's, or its nginx/locations.conf's on a server block shared by sites.
 * Each ask is a new connection (a kept-alive one would stay with an old worker).
 *
 * Undefined once only one of those ids has been answered for SETTLE_MS (new answers that began
 * before the budget ran out may settle a moment after it; another answer meanwhile is stale);
 * or at once when the tree's config has no id (built before it, or unreadable: verify says what
 * is wrong). `silent` when no ask has been answered whole for UNREACHABLE_AFTER_MS (hung, or
 * dripping), or every ask has been refused for REFUSED_FOR_MS (nothing listens): verify then
 * runs, and the verdict fails unless verify finds the whole server unreachable. Else, once `budgetMs` ran out, `stale`. Each ask must be answered whole within
 * what is left of the budget (at most 5 s).
 */
export async function waitForConfig(
  tree: string,
  url: string | undefined,
  budgetMs: number,
  intervalMs = 100,
): Promise<ConfigWaitProblem | undefined> {
  const ids = new Set<string>();
  for (const file of [LAYOUT.nginx, LAYOUT.nginxLocations]) {
    const text = readConfig(join(tree, file));
    const id = text !== undefined ? configIdOf(text) : undefined;
    if (id !== undefined) ids.add(configIdBody(id));
  }
  if (ids.size === 0) return undefined;
  const read = readDeployManifest(tree);
  if ('problem' in read) return undefined;
  const server = serverFor(read.manifest.boot.server, url);
  const path = `${server.prefix}/${LAYOUT.servedConfig}`;
  const start = performance.now();
  const until = start + budgetMs;
  let last = 'nothing';
  /** Since when every ask has had no answer (a network error). */
  let silentSince: number | undefined;
  /** Bytes of the answers given up on since then (a drip when not 0). */
  let dripped = 0;
  /** Whether every ask since then was refused (nothing listens: nginx may still be reloading). */
  let refusedOnly = true;
  /** Since when every answer has been the new id. */
  let newSince: number | undefined;
  const endOf = (since: number | undefined) => (since !== undefined ? Math.max(until, since + SETTLE_MS + 2 * SETTLE_INTERVAL_MS) : until);
  for (;;) {
    const now = performance.now();
    // New answers that began before the budget ran out may finish settling after it; nothing else does.
    const limit = endOf(newSince);
    const answer = await askConfig(server.origin, path, Math.max(200, Math.min(5000, limit - now)));
    if (answer.kind === 'silent') {
      newSince = undefined;
      if (silentSince === undefined) {
        dripped = 0;
        refusedOnly = true;
      }
      silentSince ??= now;
      dripped += answer.received;
      refusedOnly &&= answer.refused;
      last = `no answer (${answer.why})`;
      // No whole answer for 3 s (15 s while nothing listens): not a config to wait for. verify
      // runs: a server that answers nothing is unreachable; one that answers the rest has a
      // silent `.harvgen/config`.
      const silentFor = performance.now() - silentSince;
      if (silentFor >= (refusedOnly ? REFUSED_FOR_MS : UNREACHABLE_AFTER_MS))
        return { kind: 'silent', problem: silentProblem(server.origin.origin + path, silentFor, dripped, answer.why) };
    } else {
      silentSince = undefined;
      if (answer.kind === 'id' && ids.has(answer.id)) {
        newSince ??= now;
        if (performance.now() - newSince >= SETTLE_MS) return undefined;
      } else {
        newSince = undefined;
        last = answer.kind === 'id' ? `another config's id (${JSON.stringify(answer.id.trim().slice(0, 64))})` : answer.what;
      }
    }
    const pause = newSince !== undefined ? SETTLE_INTERVAL_MS : intervalMs;
    if (performance.now() + pause > endOf(newSince)) break;
    await new Promise((r) => setTimeout(r, pause));
  }
  // Never "settled" at the end of the budget on fewer than SETTLE_MS of new answers: a server whose
  // connections alternate between the new config and another (two nginx, one not reloaded) is stale.
  if (newSince !== undefined) last = `the new id for less than ${SETTLE_MS} ms, between other answers`;
  const seconds = Math.round((performance.now() - start) / 100) / 10;
  return {
    kind: 'stale',
    problem: `VERIFY_STALE_CONFIG: ${server.origin.origin}${path} answered ${last}, not the id of the served tree's ${LAYOUT.nginx} (or ${LAYOUT.nginxLocations}), ${seconds} s after the reload: nginx does not run the new config (did nginx_reload reload this nginx, and does its config include the served ${LAYOUT.nginx}? See nginx's error log)`,
  };
}

/** VERIFY_CONFIG_SILENT as state.json records it: hung (nothing came) or dripped (bytes came, never a whole answer). */
function silentProblem(url: string, ms: number, dripped: number, why: string): string {
  const seconds = Math.round(ms / 100) / 10;
  const how =
    dripped > 0
      ? `dripped its answer: ${dripped} bytes in ${seconds} s and never a whole one (last: ${why})`
      : `gave no answer: not a byte in ${seconds} s (last: ${why})`;
  return `VERIFY_CONFIG_SILENT: ${url} ${how}, while the server answered the other requests: pull cannot tell which config nginx runs (is \`.harvgen/config\` answered by the served ${LAYOUT.nginx}, not by a proxy or another server in front of it?)`;
}

/** The largest answer of `.harvgen/config` read: an id and a newline. */
const CONFIG_ANSWER_BYTES = 256;

type ConfigAnswer =
  { kind: 'id'; id: string } | { kind: 'other'; what: string } | { kind: 'silent'; why: string; received: number; refused: boolean };

/**
 * One ask of `.harvgen/config` on a new connection, whole within `ms` (a server that drips its
 * answer a byte a second cannot stretch the wait): the id it answered, another answer in words, or
 * no answer.
 */
async function askConfig(origin: URL, path: string, ms: number): Promise<ConfigAnswer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no whole answer within ${Math.round(ms / 100) / 10} s`)), ms);
  try {
    const r = await get(origin, path, {
      timeoutMs: ms,
      hash: 'sha256',
      keep: CONFIG_ANSWER_BYTES,
      maxBytes: CONFIG_ANSWER_BYTES,
      signal: abort.signal,
    });
    if (r.status !== 200) return { kind: 'other', what: `status ${r.status}` };
    if (r.cut === 'over') return { kind: 'other', what: `an answer larger than the ${CONFIG_ANSWER_BYTES} bytes an id takes` };
    if (r.cut !== undefined) return { kind: 'other', what: `an answer cut short (${r.size} bytes)` };
    return { kind: 'id', id: r.head.toString('latin1') };
  } catch (e) {
    return {
      kind: 'silent',
      why: (e as Error).message,
      received: (e as NetworkError).received ?? 0,
      refused: (e as NetworkError).code === 'ECONNREFUSED',
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The text of the tree's nginx config, or undefined when it is not a plain file (no link, no FIFO) of a sane size. */
function readConfig(file: string): string | undefined {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st === undefined || !st.isFile() || st.size > MAX_CONFIG_BYTES) return undefined;
  const bytes = readBounded(file, st.size, { follow: false });
  return bytes !== undefined ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : undefined;
}
