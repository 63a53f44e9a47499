/**
 * OpenStack sushy-tools' Redfish emulator (`sushy-emulator`), as published on PyPI and installed
 * unpatched by scripts/install-bmc-emulators.sh (.ci/bmc-emulators.txt), with either of its
 * drivers: `fake` (systems held in memory: bmc-sushy-tools.test.ts) or `libvirt` (the domains of a
 * libvirtd: bmc-emulators.test.ts, test/real/helpers/virt.ts).
 *
 * The emulator listens on 127.0.0.1, or in a network namespace at an address of it (a BMC on its
 * management network), over TLS (the self-signed certificate of redfish-server.ts's
 * certificate()), with Basic auth (an htpasswd file with a bcrypt entry, `htpasswd -iB`, the
 * password on standard input), its state and downloaded images in a temp dir. Werkzeug logs every
 * request it answers (`"METHOD /path HTTP/1.1" STATUS`), which requestsSince() parses.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import { freePort } from './http.ts';
import type { Netns } from './netns.ts';
import { describe, run, startDaemon, waitFor, type Daemon } from './proc.ts';
import { findProgram } from './programs.ts';
import { certificate } from './redfish-server.ts';
import { OVMF_CODE, OVMF_VARS } from './qemu.ts';
import { BMC_VENV } from './virt.ts';

/** The emulator's command, from the venv. */
export const SUSHY_EMULATOR = path.join(BMC_VENV, 'bin', 'sushy-emulator');
/** How to install it. */
export const SUSHY_INSTALL = 'bash scripts/install-bmc-emulators.sh (sushy-tools and virtualbmc from PyPI, pinned)';

/** Why the emulator cannot run here (undefined when it can): the venv, and the programs the tests use. */
export function sushyUnavailable(): string | undefined {
  if (!existsSync(SUSHY_EMULATOR)) return `${SUSHY_EMULATOR} is missing: ${SUSHY_INSTALL}`;
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
  /**
   * In a namespace: the requests clients sent, bodies and all, as the recording pass-through in
   * front of the emulator saw them (test/real/helpers/record-proxy.mjs), from `from` on (an index).
   */
  recorded(from?: number): RecordedRequest[];
  stop(): Promise<void>;
}

/** A request as the recording pass-through saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  body: string;
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

/** Which driver, with its systems: held in memory (`fake`) or the domains of a libvirtd (its URI). */
export type SushyDriver = { fake: FakeSystem[] } | { libvirt: string };

/** Start the emulator with Basic auth for user/password; in `ns` at `listen` when given, else on 127.0.0.1. */
export async function startSushyEmulator(o: {
  user: string;
  password: string;
  driver: SushyDriver;
  ns?: Netns;
  listen?: string;
  /** More lines of the emulator's config (Python), e.g. SUSHY_EMULATOR_VMEDIA_DEVICES. */
  extraConfig?: string;
}): Promise<SushyEmulator> {
  const dir = tempDir('sushy');
  const { certFile, keyFile } = await certificate(o.listen ? [o.listen] : []);
  const htpasswd = path.join(dir, 'htpasswd');
  const h = await run(['htpasswd', '-iBc', htpasswd, o.user], { input: o.password });
  if (h.code !== 0) throw new Error(`htpasswd:\n${describe(h)}`);
  const state = path.join(dir, 'state');
  const tmp = path.join(dir, 'tmp'); // the emulator downloads virtual media images to $TMPDIR
  mkdirSync(state);
  mkdirSync(tmp);
  const host = o.listen ?? '127.0.0.1';
  const drive =
    'fake' in o.driver
      ? `SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_FAKE_SYSTEMS = [
${o.driver.fake
  .map(
    (s) =>
      `    {'uuid': ${py(s.uuid)}, 'name': ${py(s.name)}, 'power_state': ${py(s.power_state)}, 'external_notifier': False,\n` +
      `     'nics': [${s.nics.map((n) => `{'mac': ${py(n.mac)}, 'ip': ${py(n.ip)}}`).join(', ')}]},`,
  )
  .join('\n')}
]
`
      : `SUSHY_EMULATOR_LIBVIRT_URI = ${py(o.driver.libvirt)}
SUSHY_EMULATOR_STORAGE_POOL = 'default'
# A write of BootSourceOverrideMode makes the libvirt driver rebuild the loader and its variable
# store from these (its defaults are files Debian's ovmf does not ship in that form).
SUSHY_EMULATOR_BOOT_LOADER_MAP = {'UEFI': {'x86_64': ${py(OVMF_CODE)}}, 'Legacy': {'x86_64': None}}
SUSHY_EMULATOR_SECURE_BOOT_DISABLED_NVRAM = ${py(OVMF_VARS)}
`;
  const ca = readFileSync(certFile, 'utf8');
  const auth = `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    // In a namespace of its own the address is the BMC's alone: clients reach the port they
    // expect, 443, through a pass-through that records what they send; the emulator is behind it.
    const port = o.ns ? 443 : await freePort();
    const inner = o.ns ? 8443 : port;
    const bind = o.ns ? '127.0.0.1' : host;
    const configFile = path.join(dir, 'emulator.conf');
    const config = `# Written by harvgen's test/real/helpers/sushy-emulator.ts
SUSHY_EMULATOR_LISTEN_IP = ${py(bind)}
SUSHY_EMULATOR_LISTEN_PORT = ${inner}
SUSHY_EMULATOR_SSL_CERT = ${py(certFile)}
SUSHY_EMULATOR_SSL_KEY = ${py(keyFile)}
SUSHY_EMULATOR_AUTH_FILE = ${py(htpasswd)}
SUSHY_EMULATOR_STATE_DIR = ${py(state)}
SUSHY_EMULATOR_VMEDIA_VERIFY_SSL = False
${drive}${o.extraConfig ?? ''}`;
    writeFileSync(configFile, config);
    const argv = [SUSHY_EMULATOR, '--config', configFile, ...('fake' in o.driver ? ['--fake'] : []), '-i', bind, '-p', String(inner)];
    const daemon = startDaemon('sushy-emulator', o.ns ? o.ns.exec(argv) : argv, {
      cwd: dir,
      env: noProxyEnv({ PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', TMPDIR: tmp }),
    });
    const proxyConfig = path.join(dir, 'record-proxy.json');
    writeFileSync(proxyConfig, JSON.stringify({ listen: host, port, upstream: inner, key: keyFile, cert: certFile }));
    const recorder = o.ns
      ? startDaemon('record-proxy', o.ns.exec([process.execPath, path.join(import.meta.dirname, 'record-proxy.mjs'), proxyConfig]))
      : undefined;
    const get = o.ns ? curlGet(o.ns, host, port, certFile, o.user, o.password) : localGet(port, ca, auth);
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
      // Werkzeug colours its access log lines (ANSI escapes), whether or not a terminal reads them.
      const lines = (mark: number) =>
        daemon
          .output()
          .slice(mark)
          .replace(/\x1b\[[0-9;]*m/g, '')
          .split('\n');
      return {
        port,
        base: `https://${host}:${port}`,
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
        recorded: (from = 0) =>
          (recorder?.output() ?? '')
            .split('\n')
            .filter((l) => l.startsWith('RECORD {'))
            .map((l) => JSON.parse(l.slice('RECORD '.length)) as RecordedRequest)
            .filter((q) => !q.path.includes(PROBE))
            .slice(from),
        stop: async () => {
          await recorder?.stop();
          await daemon.stop();
        },
      };
    }
    await recorder?.stop();
    await daemon.stop();
    lastError = `attempt ${attempt}, port ${port}: ${ready ? 'exited' : 'no answer in 30 s'}\n$ ${daemon.cmd}\n${daemon.output()}`;
    if (!/Address already in use/.test(daemon.output()) || o.ns) break;
  }
  throw new Error(`sushy-emulator did not start:\n${lastError}`);
}

/** A JSON answer from its text (not JSON: an empty body, and the caller looks at the text). */
function answer(status: number, text: string): Answer {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status, body, text };
}

/** GET on 127.0.0.1 with Node's https (a `?harvgen-probe` query marks it in the log). */
function localGet(port: number, ca: string, auth: string): (p: string) => Promise<Answer> {
  return (p) =>
    new Promise((resolve, reject) => {
      const sep = p.includes('?') ? '&' : '?';
      const req = https.request(
        { host: '127.0.0.1', port, path: `${p}${sep}${PROBE}`, method: 'GET', ca, agent: false, headers: { Authorization: auth } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve(answer(res.statusCode ?? 0, text)));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error(`GET ${p}: timeout`)));
      req.on('error', reject);
      req.end();
    });
}

/** GET from inside `ns` with curl (the emulator's address is reachable there only); credentials on curl's standard input. */
function curlGet(ns: Netns, host: string, port: number, certFile: string, user: string, password: string): (p: string) => Promise<Answer> {
  return async (p) => {
    const sep = p.includes('?') ? '&' : '?';
    const url = `https://${host}:${port}${p}${sep}${PROBE}`;
    const r = await run(ns.exec(['curl', '-sS', '-q', '--max-time', '10', '--cacert', certFile, '-K', '-', '-w', '\n%{http_code}', url]), {
      input: `user = ${JSON.stringify(`${user}:${password}`)}\n`,
      timeoutMs: 15_000,
    });
    if (r.code !== 0) throw new Error(`GET ${p}: ${describe(r)}`);
    const at = r.stdout.lastIndexOf('\n');
    return answer(Number(r.stdout.slice(at + 1)), r.stdout.slice(0, at));
  };
}
