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
import { placeReleases } from './releases.ts';
import { readKeyFile, readPullConfig, PullConfigError, type PullConfig } from './config.ts';
import { VersionStore, type PullState } from './store.ts';
import { nginxCheck, nginxReload } from './nginx.ts';

export { readPullConfig, type PullConfig } from './config.ts';

/** `harvgen pull --list`: the versions kept, newest first. */
export function listVersions(configFile: string): { versions: ReturnType<VersionStore['versions']> } | { problem: string } {
  try {
    const c = readPullConfig(configFile);
    return { versions: new VersionStore({ stateDir: c.stateDir, root: c.root, site: c.site }).versions() };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

export interface PullOptions {
  /** pull.json's path. */
  readonly config: string;
  /** Where to read from (a registry repository or an OCI layout); made from pull.json's repository when absent. */
  readonly source: (config: PullConfig) => Source;
  /** Pull this digest, not what the tag names. */
  readonly digest?: string;
  /** Serve the previous version again (or `rollbackTo`, a digest still kept). */
  readonly rollback?: boolean;
  readonly rollbackTo?: string;
  /** Accept an artifact older (by its signed serial) than the one served. */
  readonly allowOlder?: boolean;
  /** Check the local server after the switch (default true). */
  readonly verify?: boolean;
  /** Verify the boot server at this URL instead of boot.server (tests, a server behind another name). */
  readonly verifyUrl?: string;
  readonly onStep?: (step: string) => void;
}

export interface PullResult {
  readonly ok: boolean;
  readonly site?: string;
  /** What is served after the run. */
  readonly digest?: string;
  readonly previous?: string;
  /** `switched`, `up-to-date`, `rolled-back` or `refused`/`failed`. */
  readonly action: 'switched' | 'up-to-date' | 'rolled-back' | 'refused' | 'failed';
  readonly files?: number;
  readonly releasesWritten?: number;
  readonly verdict?: PullState['verdict'];
  readonly diagnostics: readonly Diagnostic[];
}

const diag = (code: 'PULL_REFUSED' | 'PULL_FAILED', message: string, hint: string, file?: string): Diagnostic => ({
  code,
  severity: 'error',
  message,
  hint,
  ...(file ? { file } : {}),
});

/** One pull; never throws for a registry's answers, a refusal or a failed step. */
export async function pull(options: PullOptions): Promise<PullResult> {
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
  const step = options.onStep ?? (() => {});
  let store: VersionStore | undefined;
  let lock: { release(): void } | undefined;
  try {
    store = new VersionStore({ stateDir: config.stateDir, root: config.root, site: config.site });
    // One pull at a time per state directory (the timer's and one run by hand).
    lock = store.lock();
    store.recover();
    const hooks = {
      check: (dir: string) => nginxCheck(dir, config.site, { command: config.nginxTest }),
      reload: () => nginxReload(config.nginxReload),
    };
    if (options.rollback) {
      step('rolling back');
      const r = await store.rollback(options.rollbackTo, hooks);
      // Stay there while the tag still names what was left.
      if (r.from !== undefined && r.from !== r.to) store.hold(r.from);
      return await finish(config, store, options, 'rolled-back', {});
    }
    // A run killed between its switch and nginx's reload: reload now.
    if (await store.resumeReload(hooks)) step('reloaded nginx after an interrupted switch');
    const source = options.source(config);
    const state = store.state();
    const digest = options.digest ?? (await source.resolveTag(config.tag));
    if (digest === undefined)
      return {
        ok: false,
        site: config.site,
        action: 'failed',
        diagnostics: [diag('PULL_FAILED', `${source.name}:${config.tag} does not exist`, 'Publish the site first (`harvgen publish`).')],
      };
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
    const hex = digest.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new PullRefused(`${digest} is not a sha256 digest`);
    step(`checking ${digest}`);
    const head = await readHead(source, digest, config.site, config.publicKey);
    const newest = state?.max_serial ?? state?.serial;
    if (!options.allowOlder && newest !== undefined && head.provenance.serial < newest)
      throw new PullRefused(
        `${digest} was built from an older commit (serial ${head.provenance.serial}) than one this server has served (${newest}): a replayed tag; to go back on purpose use \`harvgen pull --rollback\` or --allow-older`,
      );
    let files = 0;
    if (!store.has(hex)) {
      const stage = store.stage(hex);
      step('fetching');
      const fetched = await fetchTree(source, digest, head, key, config.publicKey, stage);
      files = fetched.files;
      step('release files');
      const releasesWritten = await placeReleases(source, fetched, config.stateDir);
      store.commit(hex);
      step('switching');
      await store.switchTo(hex, meta(head.provenance, digest), hooks);
      return await finish(config, store, options, 'switched', { files, releasesWritten });
    }
    step('switching');
    await store.switchTo(hex, meta(head.provenance, digest), hooks);
    return await finish(config, store, options, 'switched', { files });
  } catch (e) {
    // Bytes that do not hash to their digest are a refusal (exit 1), not a failure to fetch.
    if (e instanceof PullRefused || (e as { kind?: unknown }).kind === 'digest')
      return {
        ok: false,
        site: config.site,
        ...(servedDigest(store) ? { digest: servedDigest(store)! } : {}),
        action: 'refused',
        diagnostics: [
          diag(
            'PULL_REFUSED',
            (e as Error).message,
            'The tree served before stays served. Publish again from the repository; if the tag was moved by someone else, find out who.',
          ),
        ],
      };
    return {
      ok: false,
      site: config.site,
      ...(servedDigest(store) ? { digest: servedDigest(store)! } : {}),
      action: 'failed',
      diagnostics: [
        diag('PULL_FAILED', (e as Error).message, 'The tree served before stays served; fix the cause and run `harvgen pull` again.'),
      ],
    };
  } finally {
    lock?.release();
  }
}

const hex0 = (digest: string) => digest.replace(/^sha256:/, '');

/** What the store says is served, or undefined (also when state.json cannot be read). */
function servedDigest(store: VersionStore | undefined): string | undefined {
  try {
    return store?.state()?.digest;
  } catch {
    return undefined;
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
  action: 'switched' | 'rolled-back',
  extra: { files?: number; releasesWritten?: number },
): Promise<PullResult> {
  const state = store.state()!;
  let verdict = state.verdict;
  if (options.verify !== false) {
    const { verifyServed } = await import('./verify.ts');
    verdict = await verifyServed(config, store, options.verifyUrl);
    store.writeVerdict(verdict);
  }
  store.prune(config.keep);
  const diagnostics: Diagnostic[] =
    verdict && !verdict.ok
      ? [
          diag(
            'PULL_FAILED',
            `the local server does not serve ${state.digest} as built: ${verdict.failed} of ${verdict.checks} checks failed`,
            'See `harvgen verify` of the tree (its first problems are in state.json); `harvgen pull --rollback` serves the previous version again.',
          ),
        ]
      : [];
  return {
    ok: diagnostics.length === 0,
    site: config.site,
    ...(state.digest ? { digest: state.digest } : {}),
    ...(state.previous ? { previous: state.previous } : {}),
    action,
    ...extra,
    ...(verdict ? { verdict } : {}),
    diagnostics,
  };
}
