/**
 * OpenStack sushy-tools' Redfish emulator (`sushy-emulator`, fake driver) for the opt-in test
 * bmc-sushy-tools.test.ts. harvgen never downloads, vendors, builds nor installs sushy-tools: the
 * caller names a source tree (HARVGEN_SUSHY_TOOLS) that was obtained outside harvgen, and the
 * emulator runs from it with PYTHONPATH under Debian's /usr/bin/python3 (its dependencies from
 * Debian: python3-flask, python3-tenacity, python3-bcrypt, python3-webob, python3-requests).
 *
 * The emulator listens on 127.0.0.1 only, over TLS (the self-signed certificate of
 * redfish-server.ts's certificate()), with Basic auth (an htpasswd file with a bcrypt entry, `htpasswd -iB`, the password on
 * standard input), its state and downloaded images in a temp dir. Werkzeug logs every request it
 * answers (`"METHOD /path HTTP/1.1" STATUS`), which requestsSince() parses.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import { freePort } from './http.ts';
import { describe, run, startDaemon, waitFor, type Daemon } from './proc.ts';
import { findProgram } from './programs.ts';
import { certificate } from './redfish-server.ts';

/** The interpreter that sees Debian's python3-* packages (a pyenv `python3` on PATH may not). */
export const SUSHY_PYTHON = '/usr/bin/python3';
/** The Python modules the emulator imports at run time (besides the standard library). */
export const SUSHY_MODULES = ['flask', 'werkzeug', 'requests', 'tenacity', 'bcrypt', 'webob'] as const;
/** Debian packages that provide them. */
export const SUSHY_DEBIAN_PACKAGES = 'python3-flask python3-tenacity python3-bcrypt python3-webob python3-requests';

/**
 * Why the emulator cannot run here (undefined when it can): the source tree, the interpreter and
 * its modules, and the programs the test uses.
 */
export async function sushyUnavailable(src: string | undefined): Promise<string | undefined> {
  if (!src) return 'HARVGEN_SUSHY_TOOLS is not set';
  if (!existsSync(path.join(src, 'sushy_tools', 'emulator', 'main.py'))) return `${src} holds no sushy_tools/emulator/main.py`;
  if (!existsSync(SUSHY_PYTHON)) return `${SUSHY_PYTHON} is missing`;
  const imp = await run([SUSHY_PYTHON, '-c', `import ${SUSHY_MODULES.join(', ')}`], { timeoutMs: 30_000 });
  if (imp.code !== 0) return `${SUSHY_PYTHON} cannot import ${SUSHY_MODULES.join(', ')}: ${imp.stderr.trim().split('\n').at(-1) ?? ''}`;
  const missing = ['curl', 'jq', 'openssl', 'htpasswd'].filter((p) => !findProgram(p));
  if (missing.length) return `missing programs: ${missing.join(', ')}`;
  return undefined;
}

/** One request as the emulator logged it. */
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

/** One system of the fake driver (SUSHY_EMULATOR_FAKE_SYSTEMS). */
export interface FakeSystem {
  uuid: string;
  name: string;
  power_state: 'On' | 'Off';
  nics: { mac: string; ip: string }[];
}

/** A JSON answer of the emulator. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

/** A running emulator. */
export interface SushyEmulator {
  port: number;
  /** https://127.0.0.1:<port> */
  base: string;
  /** The emulator's self-signed certificate (PEM file): the CA to trust. */
  certFile: string;
  daemon: Daemon;
  /** Its temp dir (config, cert, htpasswd, state, downloaded images). */
  dir: string;
  /** The config file as written. */
  config: string;
  /** GET a path with the test's credentials (a `?harvgen-probe` query marks it in the log). */
  get(p: string): Promise<Answer>;
  /** A position in the emulator's output, for requestsSince()/messagesSince(). */
  mark(): number;
  /** The requests it logged after mark, without the test's own probes. */
  requestsSince(mark: number): LoggedRequest[];
  /** Its other output lines after mark (errors, warnings, tracebacks). */
  messagesSince(mark: number): string[];
  stop(): Promise<void>;
}

/** Werkzeug's access log line: `127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 -`. */
const ACCESS = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/;
const PROBE = 'harvgen-probe';

/** The environment without proxies: every URL here is on loopback. */
function noProxyEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/_proxy$/i.test(k)) env[k] = v;
  return { ...env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost', ...extra };
}

/** A Python string literal (JSON's escapes are Python's for these paths). */
const py = (s: string) => JSON.stringify(s);

/** Start the emulator from the source tree `src`, with Basic auth for user/password and these systems. */
export async function startSushyEmulator(o: {
  src: string;
  user: string;
  password: string;
  systems: FakeSystem[];
}): Promise<SushyEmulator> {
  const dir = tempDir('sushy');
  const { certFile, keyFile } = await certificate();
  const htpasswd = path.join(dir, 'htpasswd');
  const h = await run(['htpasswd', '-iBc', htpasswd, o.user], { input: o.password });
  if (h.code !== 0) throw new Error(`htpasswd:\n${describe(h)}`);
  const state = path.join(dir, 'state');
  const tmp = path.join(dir, 'tmp'); // the emulator downloads virtual media images to $TMPDIR
  mkdirSync(state);
  mkdirSync(tmp);
  const systems = o.systems
    .map(
      (s) =>
        `    {'uuid': ${py(s.uuid)}, 'name': ${py(s.name)}, 'power_state': ${py(s.power_state)}, 'external_notifier': False,\n` +
        `     'nics': [${s.nics.map((n) => `{'mac': ${py(n.mac)}, 'ip': ${py(n.ip)}}`).join(', ')}]},`,
    )
    .join('\n');
  const ca = readFileSync(certFile, 'utf8');
  const auth = `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const configFile = path.join(dir, 'emulator.conf');
    const config = `# Written by harvgen's test/real/helpers/sushy-emulator.ts
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = ${port}
SUSHY_EMULATOR_SSL_CERT = ${py(certFile)}
SUSHY_EMULATOR_SSL_KEY = ${py(keyFile)}
SUSHY_EMULATOR_AUTH_FILE = ${py(htpasswd)}
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_STATE_DIR = ${py(state)}
SUSHY_EMULATOR_VMEDIA_VERIFY_SSL = False
SUSHY_EMULATOR_FAKE_SYSTEMS = [
${systems}
]
`;
    writeFileSync(configFile, config);
    const daemon = startDaemon(
      'sushy-emulator',
      [SUSHY_PYTHON, '-m', 'sushy_tools.emulator.main', '--config', configFile, '--fake', '-i', '127.0.0.1', '-p', String(port)],
      { cwd: dir, env: noProxyEnv({ PYTHONPATH: o.src, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', TMPDIR: tmp }) },
    );
    const get = (p: string): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const sep = p.includes('?') ? '&' : '?';
        const req = https.request(
          { host: '127.0.0.1', port, path: `${p}${sep}${PROBE}`, method: 'GET', ca, agent: false, headers: { Authorization: auth } },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => {
              let body: Record<string, unknown> = {};
              try {
                body = JSON.parse(text) as Record<string, unknown>;
              } catch {
                // not JSON: the caller looks at text
              }
              resolve({ status: res.statusCode ?? 0, body, text });
            });
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error(`GET ${p}: timeout`)));
        req.on('error', reject);
        req.end();
      });
    const ready = await waitFor(
      async () =>
        daemon.exited() ||
        (await get('/redfish/v1/').then(
          (a) => a.status === 200,
          () => false,
        )),
      30_000,
      200,
    );
    if (ready && !daemon.exited()) {
      const lines = (mark: number) => daemon.output().slice(mark).split('\n');
      return {
        port,
        base: `https://127.0.0.1:${port}`,
        certFile,
        daemon,
        dir,
        config,
        get,
        mark: () => daemon.output().length,
        requestsSince: (mark) =>
          lines(mark).flatMap((l) => {
            const m = ACCESS.exec(l);
            return m && !m[2]!.includes(PROBE) ? [{ method: m[1]!, path: m[2]!, status: Number(m[3]) }] : [];
          }),
        messagesSince: (mark) => lines(mark).filter((l) => l.trim() !== '' && !ACCESS.test(l)),
        stop: () => daemon.stop(),
      };
    }
    await daemon.stop();
    lastError = `attempt ${attempt}, port ${port}: ${ready ? 'exited' : 'no answer in 30 s'}\n$ ${daemon.cmd}\n${daemon.output()}`;
    if (!/Address already in use/.test(daemon.output())) break;
  }
  throw new Error(`sushy-emulator did not start:\n${lastError}`);
}
