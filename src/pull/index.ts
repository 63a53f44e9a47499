// `harvgen pull` (docs/fleet.md): the boot server's materializer. One run: resolve the site's tag
// to a digest (or take the digest given), and when it is not what is served, fetch and check it
// (src/pull/fetch.ts), put its release files in place, unpack it into a new version, test nginx's
// config against it, switch the served link atomically and reload nginx (src/pull/store.ts),
// verify the local server, record the verdict where nginx serves it, and keep the newest versions.
// Whatever fails or is killed, the tree served before stays served and whole.
import type { Diagnostic } from '../diagnostics/types.ts';
import { SealKey } from '../publish/seal.ts';
import type { Source } from '../publish/sink.ts';
import { fetchTree, PullRefused, readHead } from './fetch.ts';
import { forgetReleases, placeReleases, recordReleases, releaseFiles, releaseProblems, restoreFrom, restoreReleases } from './releases.ts';
import { readKeyFile, readPullConfig, PullConfigError, type PullConfig } from './config.ts';
import { VersionStore, type PullVerdict } from './store.ts';
import { SOURCE_RE } from '../oci/ref.ts';
import { DurableError } from '../durable/index.ts';
import { nginxHooks } from './nginx.ts';
import { DEFAULT_TIMEOUT_MS, PullTimedOut, showDuration, startDeadline, withDeadline, type Deadline } from './deadline.ts';
import { registryTarget } from '../publish/stores.ts';

export { readPullConfig, type PullConfig } from './config.ts';
export { DEFAULT_TIMEOUT_MS, parseDuration } from './deadline.ts';
import type { PullOptions, PullResult, PullState, VersionInfo } from './types.ts';
export type { PullOptions, PullResult, PullState, PullVerdict, VersionInfo } from './types.ts';

/** `harvgen pull --list`: the versions kept, newest first. */
export function listVersions(configFile: string): { versions: VersionInfo[] } | { problem: string } {
  try {
    const c = readPullConfig(configFile);
    return { versions: new VersionStore({ stateDir: c.stateDir, root: c.root, site: c.site }).versions() };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

/** `pull()`'s options, and where to read from: a registry repository or an OCI layout (`--from`). */
export interface PullRunOptions extends PullOptions {
  /** When absent, pull.json's repository through the registry client (`insecure`, `certDir`, the deadline). */
  readonly source?: (config: PullConfig) => Source;
}

const diag = (code: 'PULL_REFUSED' | 'PULL_FAILED', message: string, hint: string, file?: string): Diagnostic => ({
  code,
  severity: 'error',
  message,
  hint,
  ...(file ? { file } : {}),
});

/** One pull; never throws for a registry's answers, a refusal, a failed step or the deadline. */
export async function pull(options: PullRunOptions): Promise<PullResult> {
  let config: PullConfig;
  let key: SealKey;
  try {
    config = readPullConfig(options.config);
    key = new SealKey(readKeyFile(config.keyFile), config.site);
  } catch (e) {
    if (e instanceof PullConfigError)
      return {
        ok: false,
        action: 'failed',
        diagnostics: [diag('PULL_FAILED', e.message, 'Fix the file, then run `harvgen pull` again.', options.config)],
      };
    throw e;
  }
  const deadline = startDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
  let store: VersionStore | undefined;
  let lock: { release(): void } | undefined;
  try {
    store = new VersionStore({ stateDir: config.stateDir, root: config.root, site: config.site });
    // One pull at a time per state directory (the timer's and one run by hand).
    lock = store.lock();
    store.recover();
    return await run(config, key, store, options, deadline);
  } catch (e) {
    return failure(config, store, e, deadline);
  } finally {
    lock?.release();
    deadline.dispose();
  }
}

/** The source of a run: the one given, or pull.json's registry repository; either stops at the deadline. */
function sourceOf(config: PullConfig, options: PullRunOptions, deadline: Deadline): Source {
  if (options.source) return withDeadline(options.source(config), deadline.signal);
  const certDir = options.certDir ?? config.certDir;
  return registryTarget({
    insecure: options.insecure === true || config.insecure,
    ...(certDir !== undefined ? { certDir } : {}),
    // The deadline's signal alone stops the client: its own `deadline` would set a second timer for
    // the same instant, and whichever fired first decided whether the run read as timed out.
    limits: { signal: deadline.signal, ...(options.onWarning ? { onWarning: options.onWarning } : {}) },
  }).sourceFor(config.repository);
}

/** A pull under the store's lock, after recovery. */
async function run(config: PullConfig, key: SealKey, store: VersionStore, options: PullOptions, deadline: Deadline): Promise<PullResult> {
  const p: PullRun = {
    config,
    store,
    options,
    deadline,
    step: options.onStep ?? (() => {}),
    hooks: nginxHooks(config.site, { test: config.nginxTest, reload: config.nginxReload }, () => deadline.check()),
  };
  if (options.rollback) return rollBack(p);
  // A run killed between its switch and nginx's reload: reload now.
  if (await store.resumeReload(p.hooks)) p.step('reloaded nginx after an interrupted switch');
  const source = sourceOf(config, options, deadline);
  const state = store.state();
  const digest = options.digest ?? (await source.resolveTag(config.tag));
  if (digest === undefined)
    return {
      ok: false,
      site: config.site,
      ...served(store),
      action: 'failed',
      diagnostics: [diag('PULL_FAILED', `${source.name}:${config.tag} does not exist`, 'Publish the site first (`harvgen publish`).')],
    };
  return (
    (await servedWhole(p, source, state, digest)) ?? upToDate(p, state, digest) ?? (await fetchAndSwitch(p, key, source, state, digest))
  );
}

/** One pull run: what it pulls for, where to, and how it reports its steps. */
interface PullRun {
  readonly config: PullConfig;
  readonly store: VersionStore;
  readonly options: PullOptions;
  readonly deadline: Deadline;
  readonly step: (what: string) => void;
  readonly hooks: ReturnType<typeof nginxHooks>;
}

/** `--rollback`: back to the version before (or the one named), its release files put back. */
async function rollBack({ config, store, options, deadline, step, hooks }: PullRun): Promise<PullResult> {
  step('rolling back');
  const r = await store.rollback(options.rollbackTo, hooks);
  // Stay there while the tag still names what was left.
  if (r.from !== undefined && r.from !== r.to) store.hold(r.from);
  // Its release files, put back from the registry when one is missing (a rollback needs the
  // registry only then); when that fails, the verdict names the files.
  const repaired = await repairReleases(config, store, () => sourceOf(config, options, deadline), step);
  return await finish(config, store, options, 'rolled-back', repaired);
}

/**
 * What is served (the tag's version, or the one a rollback holds) must have its release files:
 * one deleted since is put back, and verified; one with no verdict is verified. Undefined: nothing to do.
 */
async function servedWhole(p: PullRun, source: Source, state: PullState | undefined, digest: string): Promise<PullResult | undefined> {
  const { config, store, options, step } = p;
  const servedNow = store.servedHex();
  const current = (options.digest === undefined && state?.held === digest) || (state?.digest === digest && servedNow === hex0(digest));
  if (servedNow === undefined || !current) return undefined;
  // A version pulled before its release files were recorded: its signed provenance read again (once).
  let missing = await releaseProblems(config.stateDir, servedNow, config.site, config.publicKey);
  if (!missing.recorded) {
    step('recording the release files of the served version');
    recordReleases(config.stateDir, servedNow, (await readHead(source, `sha256:${servedNow}`, config.site, config.publicKey)).signed);
    missing = await releaseProblems(config.stateDir, servedNow, config.site, config.publicKey);
  }
  if (missing.problems.length > 0) {
    step(`release files not in place: ${missing.problems.join('; ')}`);
    const repaired = await restoreFrom(() => source, missing.files, config.stateDir, step);
    return await finish(config, store, options, 'up-to-date', {
      ...repaired,
      ...(SOURCE_RE.test(source.name) ? { source: source.name } : {}),
    });
  }
  // The run that switched to it was killed before it recorded a verdict (during nginx's wait,
  // or verify): verify now, so that state.json never goes on without one.
  if (state?.verdict === undefined) {
    step('no verdict recorded for the served version: verifying');
    return await finish(config, store, options, 'up-to-date', {});
  }
  return undefined;
}

/** Nothing to pull: a rollback holds the served version, or the tag's version is served. Undefined: there is. */
function upToDate({ config, store, options, step }: PullRun, state: PullState | undefined, digest: string): PullResult | undefined {
  if (options.digest === undefined && state?.held === digest) {
    step(`held at ${state.digest} by a rollback: the tag still names ${digest}, which was rolled back from`);
    return { ok: true, site: config.site, ...(state.digest ? { digest: state.digest } : {}), action: 'up-to-date', diagnostics: [] };
  }
  if (state?.digest === digest && store.servedHex() === hex0(digest))
    return {
      ok: true,
      site: config.site,
      digest,
      action: 'up-to-date',
      ...(state.verdict ? { verdict: state.verdict } : {}),
      diagnostics: [],
    };
  return undefined;
}

/** The tag's version: its signed head checked, its tree fetched (unless kept), its release files placed, then switched to. */
async function fetchAndSwitch(p: PullRun, key: SealKey, source: Source, state: PullState | undefined, digest: string): Promise<PullResult> {
  const { config, store, options, step } = p;
  const hex = hex0(digest);
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new PullRefused(`${digest} is not a sha256 digest`);
  step(`checking ${digest}`);
  const head = await readHead(source, digest, config.site, config.publicKey);
  const newest = state?.max_serial ?? state?.serial;
  if (!options.allowOlder && newest !== undefined && head.provenance.serial < newest)
    throw new PullRefused(
      `${digest} was built from an older commit (serial ${head.provenance.serial}) than one this server has served (${newest}): a replayed tag; to go back on purpose use \`harvgen pull --rollback\` or --allow-older`,
    );
  const extra: { files?: number; releasesWritten?: number; source?: string } = SOURCE_RE.test(source.name) ? { source: source.name } : {};
  if (!store.has(hex)) {
    const stage = store.stage(hex);
    step('fetching');
    const fetched = await fetchTree(source, digest, head, key, config.publicKey, stage);
    extra.files = fetched.files;
    step('release files');
    extra.releasesWritten = await placeReleases(source, fetched, config.stateDir);
    recordReleases(config.stateDir, hex, head.signed);
    p.deadline.check();
    store.commit(hex);
  } else {
    // A version still kept (a tag moved back to it): its release files may have gone since.
    step('release files');
    recordReleases(config.stateDir, hex, head.signed);
    extra.releasesWritten = await restoreReleases(source, releaseFiles(head.provenance.releases), config.stateDir);
  }
  step('switching');
  await store.switchTo(hex, meta(head.provenance, digest), p.hooks);
  return await finish(config, store, options, 'switched', extra);
}

/** A run that threw: a refusal (exit 1) or a failure (exit 2); what stays served is named. */
function failure(config: PullConfig, store: VersionStore | undefined, e: unknown, deadline: Deadline): PullResult {
  const stays = served(store);
  const still = stays.digest !== undefined ? `${stays.digest} stays served` : 'Nothing was served before, and nothing is now';
  const base = { ok: false, site: config.site, ...stays };
  // Bytes that do not hash to their digest, or more (or fewer) of them than the signed list or the
  // part gives, are a refusal (exit 1), not a failure to fetch.
  const kind = (e as { kind?: unknown }).kind;
  if (e instanceof PullRefused || kind === 'digest' || kind === 'size')
    return {
      ...base,
      action: 'refused',
      diagnostics: [
        diag(
          'PULL_REFUSED',
          (e as Error).message,
          `${still}. Publish again from the repository; if the tag was moved by someone else, find out who.`,
        ),
      ],
    };
  if (deadline.signal.aborted || e instanceof PullTimedOut)
    return {
      ...base,
      action: 'failed',
      diagnostics: [
        diag(
          'PULL_FAILED',
          `harvgen pull stopped after ${showDuration(deadline.ms)} (--timeout) before it was done: ${(e as Error).message}`,
          `${still}. The registry is slow or stalled: check it (and the network to it), or give a longer --timeout.`,
        ),
      ],
    };
  if (e instanceof DurableError) return { ...base, action: 'failed', diagnostics: [{ ...e.toDiagnostic(), hint: `${still}. ${e.hint}` }] };
  return {
    ...base,
    action: 'failed',
    diagnostics: [diag('PULL_FAILED', (e as Error).message, `${still}; fix the cause and run \`harvgen pull\` again.`)],
  };
}

/** The verdict of a pull told not to verify (`--no-verify`), as state.json records it. */
export const NOT_VERIFIED = 'not verified: --no-verify';

const hex0 = (digest: string) => digest.replace(/^sha256:/, '');

/** What is served (the link, whatever state.json says), as a result's `digest`. */
function served(store: VersionStore | undefined): { digest?: string } {
  try {
    const hex = store?.servedHex();
    return hex !== undefined ? { digest: `sha256:${hex}` } : {};
  } catch {
    return {};
  }
}

function meta(p: import('../publish/provenance.ts').Provenance, digest: string) {
  return { digest, serial: p.serial, ...(p.git ? { commit: p.git.commit } : {}), bootServer: p.serve.boot_server };
}

/** After a switch or rollback: verify the local server, record the verdict, prune. */
async function finish(
  config: PullConfig,
  store: VersionStore,
  options: PullOptions,
  action: 'switched' | 'rolled-back' | 'up-to-date',
  extra: { files?: number; releasesWritten?: number; releasesFailed?: string; source?: string },
): Promise<PullResult> {
  const state = store.state()!;
  let verdict: PullVerdict;
  if (options.verify !== false) {
    const { verifyServed } = await import('./verify.ts');
    verdict = await verifyServed(config, store, options.verifyUrl, options.configWaitMs);
  } else verdict = { ok: false, checks: 0, failed: 0, at: new Date().toISOString(), skipped: NOT_VERIFIED };
  // Always a verdict about what is now served: verify --fleet tells "not verified" from "not finished".
  store.writeVerdict(verdict, extra.source);
  forgetReleases(config.stateDir, store.prune(config.keep));
  // The wait for nginx's new config ran out (src/pull/verify.ts waitForConfig): say that, not a count of checks.
  const code = 'VERIFY_STALE_CONFIG: ';
  const stale = verdict.problems?.find((p) => p.startsWith(code))?.slice(code.length);
  // Or `.harvgen/config` gave no whole answer while the rest did: which config runs is not known.
  const mute = 'VERIFY_CONFIG_SILENT: ';
  const silent = verdict.problems?.find((p) => p.startsWith(mute))?.slice(mute.length);
  const gap = 'VERIFY_RELEASE_FILE: ';
  const gaps = (verdict.problems ?? []).filter((p) => p.startsWith(gap)).map((p) => p.slice(gap.length));
  const unrepaired =
    extra.releasesFailed !== undefined && verdict.skipped !== undefined
      ? [
          diag(
            'PULL_FAILED',
            `${state.digest} is served, but release files it needs could not be put back: ${extra.releasesFailed}`,
            'Make the registry reachable and run `harvgen pull` again, or copy the files into place.',
          ),
        ]
      : [];
  const diagnostics: Diagnostic[] =
    unrepaired.length > 0
      ? unrepaired
      : !verdict.ok && verdict.skipped === undefined
        ? [
            stale !== undefined
              ? diag(
                  'PULL_FAILED',
                  `${state.digest} is switched to, but nginx does not run its config: ${stale}`,
                  "Fix the reload command (pull.json `nginx_reload`) or nginx's include of the served nginx/harvgen.conf, and reload nginx; `harvgen verify` of the tree then checks what it serves.",
                )
              : silent !== undefined
                ? diag(
                    'PULL_FAILED',
                    `${state.digest} is switched to, but which nginx config answers is not known: ${silent}`,
                    "Find what holds back `.harvgen/config` (a proxy or load balancer in front of nginx, nginx's error log), then run `harvgen pull` again or `harvgen verify` of the tree.",
                  )
                : diag(
                    'PULL_FAILED',
                    `the local server does not serve ${state.digest} as built: ${verdict.failed} of ${verdict.checks} checks failed${
                      gaps.length > 0 ? ` (release files not in place: ${gaps.join('; ')})` : ''
                    }`,
                    extra.releasesFailed !== undefined
                      ? `Its release files could not be put back (${extra.releasesFailed}): make the registry reachable and run \`harvgen pull\` again, or copy them into place.`
                      : 'See `harvgen verify` of the tree (its first problems are in state.json); `harvgen pull --rollback` serves the previous version again.',
                  ),
          ]
        : [];
  const { releasesFailed: _failed, source: _source, ...counts } = extra;
  return {
    ok: diagnostics.length === 0,
    site: config.site,
    ...(state.digest ? { digest: state.digest } : {}),
    ...(state.previous ? { previous: state.previous } : {}),
    action,
    ...counts,
    verdict,
    diagnostics,
  };
}

/**
 * Put back the served version's release files that are not in place (its record, src/pull/releases.ts),
 * from the registry; never throws for the registry: what failed goes into the result, and the
 * verdict (which checks the files) says which are missing.
 */
async function repairReleases(
  config: PullConfig,
  store: VersionStore,
  source: () => Source,
  step: (s: string) => void,
): Promise<{ releasesWritten?: number; releasesFailed?: string }> {
  const hex = store.servedHex();
  if (hex === undefined) return {};
  const missing = await releaseProblems(config.stateDir, hex, config.site, config.publicKey);
  return missing.problems.length === 0 ? {} : await restoreFrom(source, missing.files, config.stateDir, step);
}
