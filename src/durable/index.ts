// The durable layer: how every command writes a file that must survive a kill (one atomic write),
// keeps one writer per directory (one lock), and refuses to go through a link (safe paths), with
// each refusal a DurableError carrying a diagnostic code. Emit, pull, publish, status, discover
// and watch use it; nothing else writes a durable file.
export { DurableError } from './errors.ts';
export {
  AtomicBatch,
  atomicTempPath,
  fsyncDir,
  removeStaleTemps,
  TEMP_MARK,
  writeFileAtomic,
  writeFileAtomicAsync,
  type AtomicOptions,
} from './atomic.ts';
export { acquireLock, acquireLockSync, LOCK_FILE, lockPresent, type LockOptions } from './lock.ts';
export { SafePaths, symlinkRefused, TEMP_SUFFIX, tempFor } from './safe-path.ts';
export { processAlive } from './process.ts';
