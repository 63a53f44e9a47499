/**
 * sigstore's cosign for the real-program tests: the binary scripts/install-cosign.sh builds (the
 * version pinned there, unpatched, from the Go module proxy), and `cosign verify --key` as Flux runs
 * it with a key: offline, no transparency log, against a test registry (its CA and credentials).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import { REPO_ROOT } from './initramfs.ts';
import { realRequired } from './programs.ts';
import { run } from './proc.ts';
import type { TestRegistry } from './registry.ts';

export const COSIGN_VERSION = 'v2.6.5';
export const COSIGN = path.join(REPO_ROOT, `.tmp/real/tools/cosign-${COSIGN_VERSION}/cosign`);

/** cosign is there, or the caller skips loudly (a failure under HARVGEN_REQUIRE_REAL=1). */
export function cosignPresent(): boolean {
  if (existsSync(COSIGN)) return true;
  const msg = `${COSIGN} is missing: bash scripts/install-cosign.sh (sigstore's cosign ${COSIGN_VERSION} from the Go module proxy)`;
  if (realRequired()) throw new Error(`${msg} — HARVGEN_REQUIRE_REAL=1 makes this a failure`);
  console.warn(`\n${'!'.repeat(78)}\nSKIPPED: ${msg}\n${'!'.repeat(78)}`);
  return false;
}

/** What a verify may change: `offline: false` leaves `--offline` out; `env` is added to cosign's environment. */
export interface CosignVerifyOptions {
  readonly offline?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  /** More arguments, before the reference. */
  readonly args?: readonly string[];
}

/**
 * Every host but the loopback registry out of reach, and each try to reach one counted: HTTP(S)
 * goes through a "proxy" on loopback that counts the connections it gets and closes each at once
 * (Go's net/http never proxies a loopback address, so the test registry is still reached directly).
 * A cosign that calls out (Rekor, the TUF repository, Fulcio) is seen here, and gets nothing.
 */
export async function airGap(): Promise<{ env: Record<string, string>; tries: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    env: { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, https_proxy: proxy, http_proxy: proxy, NO_PROXY: '', no_proxy: '' },
    tries: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `cosign verify --key <key> --insecure-ignore-tlog --offline <ref>` against the test registry. */
export async function cosignVerify(r: TestRegistry, key: string, ref: string, opts: CosignVerifyOptions = {}) {
  const home = tempDir('cosign-home');
  mkdirSync(path.join(home, '.docker'), { recursive: true });
  // cosign reads registry credentials from Docker's config.json (the same `auths` form as containers' auth.json).
  writeFileSync(path.join(home, '.docker/config.json'), readFileSync(r.authFile));
  const offline = opts.offline === false ? [] : ['--offline'];
  return run([COSIGN, 'verify', '--key', key, '--insecure-ignore-tlog', ...offline, ...(opts.args ?? []), ref], {
    timeoutMs: 60_000,
    env: {
      ...process.env,
      HOME: home,
      DOCKER_CONFIG: path.join(home, '.docker'),
      SSL_CERT_FILE: r.caFile,
      TUF_ROOT: path.join(home, 'tuf'),
      ...opts.env,
    },
  });
}
