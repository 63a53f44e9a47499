/**
 * nginx around a switch (`harvgen pull`): the config test against the NEW tree before the link
 * moves, and the reload after.
 *
 * `nginxCheck` writes a main config of its own in a temp directory (`pid` and `error_log` there,
 * `events {}`, `http { include <versionDir>/nginx/harvgen.conf; }`) and runs
 * `<nginx_test> -c <tmp>/nginx.conf -p <tmp>/`; nothing in the tree is rewritten. What this
 * proves: the new server block parses, every directive is valid where it is, and what it includes
 * exists. What it does not: the block's `root` and `alias` paths name the served link (`<root>`),
 * which during the test still points at the old tree, and nginx does not look at those paths when
 * it tests a config anyway. Like any `nginx -t`, it binds the `listen` addresses (an address in use
 * by the running nginx is accepted in test mode; one this host does not have fails) and opens the
 * `access_log` files, creating them if missing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export class NginxError extends Error {
  /** nginx's own output (stderr, else stdout), trimmed. */
  readonly output: string;
  constructor(message: string, output: string) {
    super(message);
    this.name = 'NginxError';
    this.output = output;
  }
}

export interface NginxCheckOptions {
  /** The test command without `-c`/`-p` (`pull.json` `nginx_test`); default `["nginx", "-t"]`. */
  command?: readonly string[];
  /**
   * Which generated file to test: `server` (default) includes `nginx/harvgen.conf` (a `server {}`
   * block) in `http {}`; `locations` (a site on a shared server block) includes
   * `nginx/locations.conf` inside a `server {}` of the test's own, listening on a Unix socket in
   * the temp directory.
   */
  include?: 'server' | 'locations';
  /** Where to make the temp directory (default the OS's). */
  tmpDir?: string;
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_TEST = ['nginx', '-t'] as const;
const DEFAULT_RELOAD = ['nginx', '-s', 'reload'] as const;
const OUTPUT_MAX = 64 * 1024;

/** A path as an nginx string: double-quoted; refused when quoting cannot carry it. */
function quotePath(p: string): string {
  if (!isAbsolute(p)) throw new NginxError(`not an absolute path: ${JSON.stringify(p)}`, '');
  // eslint-disable-next-line no-control-regex
  if (/["\\$\u0000-\u001f\u007f]/.test(p))
    throw new NginxError(`a path nginx cannot be given safely (quote, backslash, $ or a control character): ${JSON.stringify(p)}`, '');
  return `"${p}"`;
}

function checkCommand(cmd: readonly string[], what: string): void {
  if (cmd.length === 0 || cmd.some((a) => typeof a !== 'string' || a.length === 0 || a.includes('\0')))
    throw new NginxError(`${what} must be a non-empty list of non-empty arguments`, '');
}

/** Run a command without a shell; stdout and stderr kept up to 64 KiB each. */
export function runCommand(argv: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Our own timer: spawn's `timeout` is not cleared when the command cannot start.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < OUTPUT_MAX) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < OUTPUT_MAX) stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new NginxError(`command not found: ${file} (running: ${argv.join(' ')})`, '')
          : new NginxError(`cannot run ${argv.join(' ')}: ${e.message}`, ''),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

function failure(r: CommandResult, timeoutMs: number): string {
  const out = (r.stderr.trim() || r.stdout.trim()).slice(0, OUTPUT_MAX);
  const how = r.signal ? (r.signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : `killed by ${r.signal}`) : `exit ${r.code}`;
  return out ? `${how}:\n${out}` : how;
}

/** The main config nginxCheck writes (exported for the tests). */
export function testConfig(versionDir: string, tmp: string, include: 'server' | 'locations' = 'server'): string {
  const lines = [
    '# Written by harvgen pull to test a new tree before serving it; removed after the test.',
    `pid ${quotePath(join(tmp, 'nginx.pid'))};`,
    `error_log ${quotePath(join(tmp, 'error.log'))};`,
    'events {}',
    'http {',
  ];
  if (include === 'server') lines.push(`    include ${quotePath(join(versionDir, 'nginx/harvgen.conf'))};`);
  else
    lines.push(
      '    server {',
      `        listen "unix:${quotePath(join(tmp, 'test.sock')).slice(1)};`,
      `        include ${quotePath(join(versionDir, 'nginx/locations.conf'))};`,
      '    }',
    );
  lines.push('}', '');
  return lines.join('\n');
}

/**
 * Test the new tree's nginx config before the switch. Resolves when nginx accepts it; throws an
 * NginxError holding nginx's own message otherwise. `site` names the site in the message.
 */
export async function nginxCheck(versionDir: string, site: string, opts: NginxCheckOptions = {}): Promise<void> {
  const command = opts.command ?? DEFAULT_TEST;
  checkCommand(command, 'nginx_test');
  const include = opts.include ?? 'server';
  const file = join(versionDir, include === 'server' ? 'nginx/harvgen.conf' : 'nginx/locations.conf');
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch {
    throw new NginxError(
      `site ${site}: the new tree has no ${include === 'server' ? 'nginx/harvgen.conf' : 'nginx/locations.conf'} (${file}); not switching`,
      '',
    );
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const tmp = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'harvgen-nginx-test-'));
  try {
    const conf = join(tmp, 'nginx.conf');
    writeFileSync(conf, testConfig(versionDir, tmp, include), { mode: 0o600 });
    const argv = [...command, '-c', conf, '-p', tmp + '/'];
    const r = await runCommand(argv, timeoutMs);
    if (r.code !== 0)
      throw new NginxError(
        `site ${site}: nginx rejects the new tree's config (${file}); not switching. ${argv.join(' ')}: ${failure(r, timeoutMs)}`,
        r.stderr.trim() || r.stdout.trim(),
      );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Run the reload command (`pull.json` `nginx_reload`, default `nginx -s reload`); an NginxError with its stderr on failure. */
export async function nginxReload(command: readonly string[] = DEFAULT_RELOAD, timeoutMs = 30_000): Promise<void> {
  checkCommand(command, 'nginx_reload');
  const r = await runCommand(command, timeoutMs);
  if (r.code !== 0)
    throw new NginxError(`nginx reload failed (${command.join(' ')}): ${failure(r, timeoutMs)}`, r.stderr.trim() || r.stdout.trim());
}

/** What the version store runs around a switch: `before` (the run's deadline), the test of the new tree, then the reload. */
export function nginxHooks(
  site: string,
  commands: { readonly test: readonly string[]; readonly reload: readonly string[] },
  before: () => void,
): { check: (dir: string) => Promise<void>; reload: () => Promise<void> } {
  return {
    check: (dir: string) => {
      before();
      return nginxCheck(dir, site, { command: commands.test });
    },
    reload: () => nginxReload(commands.reload),
  };
}
