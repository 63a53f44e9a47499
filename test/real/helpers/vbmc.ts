/**
 * OpenStack virtualbmc, as published on PyPI and installed unpatched by scripts/install-bmc-emulators.sh:
 * an IPMI BMC (pyghmi's IPMI 2.0 LAN server) for one libvirt domain. `vbmcd` runs in the
 * foreground in the BMC's network namespace, its config, state and log in a temp dir
 * (VIRTUALBMC_CONFIG), its control port on that namespace's loopback; `vbmc add` and `vbmc start`
 * give the domain a BMC on `address`:623 (UDP).
 */
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import type { Netns } from './netns.ts';
import { describe, run, startDaemon, waitFor, type Daemon } from './proc.ts';
import { BMC_VENV } from './virt.ts';

/** The emulator's commands, from the venv. */
export const VBMCD = path.join(BMC_VENV, 'bin', 'vbmcd');
const VBMC = path.join(BMC_VENV, 'bin', 'vbmc');

/** A running IPMI BMC of one domain. */
export interface Vbmc {
  address: string;
  port: number;
  daemon: Daemon;
  /** vbmcd's log (each IPMI request it served, with debug on). */
  log(): string;
  stop(): Promise<void>;
}

/** Start vbmcd in `ns` and a BMC for `domain` of the libvirtd at `uri`, with these credentials. */
export async function startVbmc(o: {
  ns: Netns;
  address: string;
  uri: string;
  domain: string;
  user: string;
  password: string;
}): Promise<Vbmc> {
  const dir = tempDir('vbmc');
  const configDir = path.join(dir, 'vbmc');
  mkdirSync(configDir);
  const logfile = path.join(dir, 'vbmcd.log');
  const config = path.join(dir, 'virtualbmc.conf');
  writeFileSync(
    config,
    [
      '[default]',
      `config_dir = ${configDir}`,
      `pid_file = ${path.join(dir, 'vbmcd.pid')}`,
      'server_port = 50891',
      '[log]',
      `logfile = ${logfile}`,
      'debug = true',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, VIRTUALBMC_CONFIG: config, PYTHONDONTWRITEBYTECODE: '1' };
  const daemon = startDaemon('vbmcd', o.ns.exec([VBMCD, '--foreground']), { env });
  const vbmc = async (args: readonly string[]) => {
    const r = await run(o.ns.exec([VBMC, ...args]), { env, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`vbmc ${args.join(' ')} failed:\n${describe(r)}\nvbmcd:\n${daemon.output().slice(-2000)}`);
    return r.stdout;
  };
  try {
    const listening = await waitFor(
      async () => daemon.exited() || (await run(o.ns.exec([VBMC, 'list']), { env, timeoutMs: 10_000 })).code === 0,
      30_000,
      300,
    );
    if (!listening || daemon.exited()) throw new Error(`vbmcd did not start:\n$ ${daemon.cmd}\n${daemon.output()}`);
    await vbmc([
      'add',
      o.domain,
      '--address',
      o.address,
      '--port',
      '623',
      '--username',
      o.user,
      '--password',
      o.password,
      '--libvirt-uri',
      o.uri,
    ]);
    await vbmc(['start', o.domain]);
    const running = await waitFor(async () => /\brunning\b/.test(await vbmc(['list'])), 30_000, 300);
    if (!running) throw new Error(`virtualbmc of ${o.domain} is not running:\n${await vbmc(['list'])}\n${daemon.output()}`);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    address: o.address,
    port: 623,
    daemon,
    log: () => (existsSync(logfile) ? readFileSync(logfile, 'utf8') : ''),
    async stop() {
      await run(o.ns.exec([VBMC, 'stop', o.domain]), { env, timeoutMs: 30_000 });
      await daemon.stop(5000);
    },
  };
}
