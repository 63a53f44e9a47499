/** The options of a registry client (`Registry`), read by its transport and its authentication. */
import type { Readable } from 'node:stream';
import type { Credentials } from './auth.ts';

/** Bytes to upload: in memory, or a size and a way to stream them (once per attempt). */
export type BlobBody = Uint8Array | { readonly size: number; readonly open: () => Readable | Promise<Readable> };

/** The default limit of one request, its answer read whole included (30 minutes). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30 * 60 * 1000;

/** Options of a Registry client. */
export interface RegistryOptions {
  /** `host[:port]`. */
  readonly registry: string;
  /**
   * Plain HTTP instead of HTTPS (loopback tests and labs only). Also lets a Bearer challenge name
   * a plain-HTTP token service; without it such a challenge is refused.
   */
  readonly insecure?: boolean;
  /** Credentials to use; `null` for anonymous; undefined to look them up (auth.ts). */
  readonly credentials?: Credentials | null;
  /** Environment for the credential lookup (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** A directory of CA certificates used instead of the certs.d directories. */
  readonly certDir?: string;
  /** The certs.d roots (tests). */
  readonly certsRoots?: readonly string[];
  /** Idle timeout of each request in ms: no byte for this long fails it (default 60 000). */
  readonly timeoutMs?: number;
  /**
   * Limit of each request in ms, from its start to the last byte of its answer (an upload's body
   * and a blob read as a stream included; default 30 minutes): a registry that answers a byte at a
   * time cannot hold a run. RegistryError kind 'timeout'.
   */
  readonly requestTimeoutMs?: number;
  /** The whole run's deadline (ms since the epoch, as Date.now()): no request runs past it ('timeout'). */
  readonly deadline?: number;
  /** Stops every request of the client when aborted (RegistryError kind 'timeout', "stopped"). */
  readonly signal?: AbortSignal;
  /**
   * Called with each warning (a token service on another host than the registry); the warnings
   * are also kept in `Registry.warnings`. No credential is ever in one.
   */
  readonly onWarning?: (message: string) => void;
  /** Sockets kept per host (default 8). */
  readonly maxSockets?: number;
  readonly userAgent?: string;
}
