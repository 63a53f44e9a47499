// After a switch, the materializer checks the local boot server as `harvgen verify` would, from
// the served tree alone (no inventory on the boot server): every served file's bytes, status and
// type, the per-node address rules (a file only its node may fetch must be refused to this host),
// and nothing else answering. The verdict goes into state.json, which nginx serves to the center
// (and to anyone): its problems name keyed files without their key.
import { join } from 'node:path';
import { verifyTree } from '../verify/index.ts';
import type { PullConfig } from './config.ts';
import type { PullState, VersionStore } from './store.ts';

/** Problems kept in state.json (the first ones; `harvgen verify` on the boot server shows all). */
const KEEP_PROBLEMS = 5;

export async function verifyServed(config: PullConfig, store: VersionStore, url?: string): Promise<NonNullable<PullState['verdict']>> {
  const state = store.state();
  const hex = state?.digest?.replace(/^sha256:/, '');
  const tree = hex ? join(config.stateDir, 'versions', hex) : config.root;
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
  return {
    ok: result.ok,
    checks: result.checks,
    failed: result.ok ? 0 : Math.max(failed, errors.length),
    at: new Date().toISOString(),
    problems: errors.slice(0, KEEP_PROBLEMS).map((d) => redactKeyed(`${d.code}: ${d.file !== undefined ? `${d.file}: ` : ''}${d.message}`)),
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
