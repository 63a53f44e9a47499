// What the version store keeps (src/pull/store.ts): the versions in their order (the last switch
// to each, from state.json's history, then those never served), the target of a rollback, and
// pruning to the newest few (never the served one nor the one before it).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HEX, PullStoreError, STATE_FILE, type PullState, type SwitchMeta, type SwitchRecord } from './state.ts';
import { digestHex, fsyncPath, lstatOrUndefined, removeTree } from './store-fs.ts';
import type { VersionInfo } from './types.ts';

export type { VersionInfo } from './types.ts';

/** What of the version store (src/pull/store.ts) these read. */
export interface KeptStore {
  readonly stateDir: string;
  readonly versionsDir: string;
  state(): PullState | undefined;
  servedHex(): string | undefined;
  has(hex: string): boolean;
}

/**
 * The kept versions, newest first: by the last switch to each (state.json's history), then
 * versions never served (committed, but their check failed or no switch followed), by name.
 */
export function keptVersions(store: KeptStore): VersionInfo[] {
  const state = store.state();
  let served: string | undefined;
  try {
    served = store.servedHex();
  } catch {
    served = undefined;
  }
  const present = new Set(
    (lstatOrUndefined(store.versionsDir)?.isDirectory() ? readdirSync(store.versionsDir, { withFileTypes: true }) : [])
      .filter((e) => e.isDirectory() && HEX.test(e.name))
      .map((e) => e.name),
  );
  const out: VersionInfo[] = [];
  const seen = new Set<string>();
  const previous = state?.previous ? digestHex(state.previous) : undefined;
  const info = (hex: string, rec?: SwitchRecord): VersionInfo => ({
    hex,
    dir: join(store.versionsDir, hex),
    served: hex === served,
    previous: hex === previous,
    ...(rec ? { switched_at: rec.switched_at } : {}),
    ...(rec?.serial !== undefined ? { serial: rec.serial } : {}),
    ...(rec?.commit !== undefined ? { commit: rec.commit } : {}),
  });
  if (served !== undefined && present.has(served) && !(state?.history.some((r) => r.digest === `sha256:${served}`) ?? false)) {
    out.push(info(served));
    seen.add(served);
  }
  for (const rec of state?.history ?? []) {
    const hex = digestHex(rec.digest);
    if (seen.has(hex) || !present.has(hex)) continue;
    seen.add(hex);
    out.push(info(hex, rec));
  }
  for (const hex of [...present].sort()) if (!seen.has(hex)) out.push(info(hex));
  return out;
}

/**
 * Delete every version but the newest `keep` (keptVersions order), never the served one nor the
 * previous one. Run it after a switch: a committed version not yet switched to is the oldest.
 * Returns the hex names deleted.
 */
export function pruneVersions(store: KeptStore, keep: number): string[] {
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new PullStoreError('bad-argument', `keep must be a whole number of at least 1 (got ${keep})`);
  const gone: string[] = [];
  keptVersions(store).forEach((v, i) => {
    if (i < keep || v.served || v.previous) return;
    removeTree(v.dir);
    gone.push(v.hex);
  });
  if (gone.length) fsyncPath(store.versionsDir);
  return gone;
}

/** The version a rollback serves (the previous one, or `to` when still kept) and its serial and commit from the history. */
export function rollbackTarget(store: KeptStore, to: string | undefined): { hex: string; meta: SwitchMeta } {
  const state = store.state();
  let target: string;
  if (to !== undefined) target = digestHex(to);
  else {
    if (!state?.previous)
      throw new PullStoreError('no-previous', `nothing to roll back to: ${join(store.stateDir, STATE_FILE)} records no previous version`);
    target = digestHex(state.previous);
  }
  if (!store.has(target))
    throw new PullStoreError(
      'version-missing',
      `version ${target} is no longer kept in ${store.versionsDir}; kept: ${
        keptVersions(store)
          .map((v) => v.hex)
          .join(', ') || 'none'
      }`,
    );
  const known = state?.history.find((h) => h.digest === `sha256:${target}`);
  const meta: SwitchMeta = {};
  if (known?.serial !== undefined) meta.serial = known.serial;
  if (known?.commit !== undefined) meta.commit = known.commit;
  return { hex: target, meta };
}
