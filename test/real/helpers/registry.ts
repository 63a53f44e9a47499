/**
 * The real CNCF Distribution registry (`/usr/bin/docker-registry serve`, Debian docker-registry)
 * on 127.0.0.1 and a free port, over TLS (a CA and a server certificate for IP 127.0.0.1 made
 * with openssl), htpasswd Basic auth (bcrypt, `htpasswd -Bbn`), filesystem storage in a temp
 * dir, deletion enabled. Stop it in `finally` (stop() kills it by PID and waits).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import { freePort } from './http.ts';
import { describe, run, sleep, startDaemon, type Daemon } from './proc.ts';
import type { Netns } from './netns.ts';

/** The programs startRegistry needs (for requireProgram). */
export const REGISTRY_PROGRAMS = ['docker-registry', 'htpasswd', 'openssl'] as const;

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The CA certificate (PEM file). */
  readonly caFile: string;
  /** A directory holding only `ca.crt` (skopeo's `--cert-dir`, harvgen's `certDir`). */
  readonly certDir: string;
  readonly username: string;
  readonly password: string;
  /** The registry's storage root (`rootdirectory`). */
  readonly storageDir: string;
  /** A containers auth.json holding the credentials (`REGISTRY_AUTH_FILE`, skopeo `--authfile`). */
  readonly authFile: string;
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

/** Start the registry; throws with its output when it does not come up within 15 s. */
export async function startRegistry(options: { username?: string; password?: string; ns?: Netns } = {}): Promise<TestRegistry> {
  const dir = tempDir('registry');
  const username = options.username ?? 'harvgen';
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2, 12)}`;
  const storageDir = path.join(dir, 'storage');
  const certDir = path.join(dir, 'certs');
  mkdirSync(storageDir);
  mkdirSync(certDir);
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  const key = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const crt = path.join(dir, 'server.crt');
  const ext = path.join(dir, 'server.ext');
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  const steps: string[][] = [
    [
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      '/CN=harvgen test CA',
    ],
    [
      'openssl',
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      '/CN=127.0.0.1',
    ],
    ['openssl', 'x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', crt, '-days', '2', '-extfile', ext],
  ];
  for (const argv of steps) {
    const r = await run(argv, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`registry CA: ${describe(r)}`);
  }
  copyFileSync(caFile, path.join(certDir, 'ca.crt'));
  // bcrypt (-B), the password on stdin (-i), never on argv.
  const h = await run(['htpasswd', '-iBn', username], { timeoutMs: 30_000, input: password });
  if (h.code !== 0) throw new Error(`htpasswd: ${describe(h)}`);
  const htpasswd = path.join(dir, 'htpasswd');
  writeFileSync(htpasswd, h.stdout);
  const authFile = path.join(dir, 'auth.json');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(
    authFile,
    `${JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }, null, 2)}\n`,
    { mode: 0o600 },
  );
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storageDir}`,
      '  delete:',
      '    enabled: true',
      '  cache:',
      '    blobdescriptor: ""',
      'auth:',
      '  htpasswd:',
      '    realm: harvgen-test',
      `    path: ${htpasswd}`,
      'http:',
      `  addr: ${host}`,
      `  secret: ${Math.random().toString(36).slice(2)}`,
      '  tls:',
      `    certificate: ${crt}`,
      `    key: ${key}`,
      'health:',
      '  storagedriver:',
      '    enabled: false',
      '',
    ].join('\n'),
  );
  const argv = ['/usr/bin/docker-registry', 'serve', config];
  const daemon = startDaemon('docker-registry', options.ns ? options.ns.exec(argv) : argv, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const ca = readFileSync(caFile);
  const deadline = Date.now() + 15_000;
  for (;;) {
    // Inside a namespace the registry's 127.0.0.1 is the namespace's own: ask from there.
    const status = options.ns ? await pingIn(options.ns, host, caFile) : await ping(port, ca);
    if (status === 401) break;
    if (daemon.exited() || Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`docker-registry did not come up on ${host} (last answer: ${status}):\n${daemon.output()}`);
    }
    await sleep(100);
  }
  return {
    host,
    url: `https://${host}`,
    caFile,
    certDir,
    username,
    password,
    storageDir,
    authFile,
    daemon,
    stop: () => daemon.stop(),
  };
}

async function pingIn(ns: Netns, host: string, caFile: string): Promise<number | string> {
  const r = await run(ns.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, `https://${host}/v2/`]), {
    timeoutMs: 5000,
  });
  return Number(r.stdout) || r.stdout;
}

function ping(port: number, ca: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/v2/', method: 'GET', ca, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    req.end();
  });
}

/** Every blob file in the registry's storage (`docker/registry/v2/blobs/sha256/<xx>/<hex>/data`). */
export function registryBlobFiles(storageDir: string): string[] {
  const root = path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const out: string[] = [];
  let prefixes: string[];
  try {
    prefixes = readdirSync(root).sort();
  } catch {
    return out;
  }
  for (const p of prefixes) {
    for (const hex of readdirSync(path.join(root, p)).sort()) {
      const data = path.join(root, p, hex, 'data');
      if (existsSync(data)) out.push(data);
    }
  }
  return out;
}

/** The data file of one blob in the storage. */
export function registryBlobFile(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/**
 * Publish `repo`'s site to the test registry with harvgen's library (its CA, its credentials through
 * REGISTRY_AUTH_FILE as a user's auth.json); fails on any error. The site as published.
 */
export async function publishToRegistry(r: TestRegistry, repo: { readonly site: string; readonly root: string }) {
  const { publishSites } = await import('../../../src/publish/run.ts');
  process.env.REGISTRY_AUTH_FILE = r.authFile;
  const result = await publishSites({ sites: [repo.site], cwd: repo.root, certDir: r.certDir, recordDir: null });
  if ('problem' in result) throw new Error(String(result.problem));
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  if (errors.length > 0) throw new Error(`publish failed: ${errors.join('; ')}`);
  return result.published[0]!;
}
