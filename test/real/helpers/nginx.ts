/**
 * Run the generated nginx server block for real. The generated file is a conf.d snippet
 * (`server { ... }`), so it is wrapped the way Debian's /etc/nginx/nginx.conf includes it
 * (inside `http {}`, after `include mime.types; default_type application/octet-stream;`).
 * Only host paths are rewritten in a copy: `root` (-> the built tree), the artifacts `alias`/`root`
 * (-> a temp dir), `access_log`/`error_log` (-> the prefix) and, if asked, `listen`.
 */
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { run, startDaemon, describe, waitFor, type Daemon, type RunResult } from './proc.ts';
import type { Netns } from './netns.ts';

/** What to change in the copy of the generated server block. */
export interface NginxRewrite {
  /** Directory to serve as the server's `root` (the built site tree). */
  treeDir: string;
  /** Directory holding the release files (target of the artifacts `alias`es). */
  artifactsDir?: string;
  /** Replacement for the `listen` directive's value, e.g. `127.0.0.1:8123`. */
  listen?: string;
  /** Directory for logs. */
  logDir: string;
  /**
   * Test clients to admit to the protected files beside the generated `allow` lists (an `allow`
   * before each `deny all`), for tests about something else whose client is not the node (a
   * loopback client, cloud-init run on the server's own address). test/real/access.test.ts
   * proves the generated rules without this.
   */
  alsoAllow?: readonly string[];
}

/** Result of rewriting: the new text and what was changed (for failure messages). */
export interface RewrittenServer {
  text: string;
  changes: string[];
  hasArtifactsLocation: boolean;
  /** The rewritten access_log paths. */
  accessLogs: string[];
}

const PATH_DIRECTIVE = /^(\s*)(root|alias|access_log|error_log|listen)(\s+)([^;]*);/;

/**
 * Rewrite host paths in a copy of the generated `server {}` block: the server-level `root`
 * (and anything under it) -> treeDir; an `alias`/`root` naming a release file
 * (`.../harvester-<version>-...`) or an artifacts directory -> artifactsDir; logs -> logDir.
 * Any other path is an error, so a new kind of path in the generator cannot slip through.
 */
export function rewriteServerBlock(snippet: string, rw: NginxRewrite): RewrittenServer {
  const changes: string[] = [];
  let depth = 0;
  let hasArtifactsLocation = false;
  let logN = 0;
  let listenSeen = false;
  let siteRoot: string | undefined;
  const accessLogs: string[] = [];
  const lines = snippet.split('\n').map((line, i) => {
    const code = stripComment(line);
    const m = PATH_DIRECTIVE.exec(code);
    const before = depth;
    depth += count(code, '{') - count(code, '}');
    const deny = /^(\s*)deny all;/.exec(code);
    if (deny && rw.alsoAllow?.length) {
      changes.push(`line ${i + 1}: allow ${rw.alsoAllow.join(', ')} before deny all`);
      return [...rw.alsoAllow.map((a) => `${deny[1]}allow ${a}; # (test) added`), line].join('\n');
    }
    if (!m) return line;
    const [, ind = '', name = '', sp = ' ', value = ''] = m;
    const [first = '', ...rest] = value.trim().split(/\s+/);
    const tail = rest.length ? ' ' + rest.join(' ') : '';
    let next: string | undefined;
    if (name === 'listen') {
      if (rw.listen) {
        // One listen socket for the test; a second generated one would duplicate it.
        next = listenSeen ? '' : rw.listen;
        listenSeen = true;
      }
    } else if (name === 'access_log' || name === 'error_log') {
      if (first !== 'off' && first !== 'stderr') {
        const file = path.join(rw.logDir, `${name}-${++logN}.log`);
        if (name === 'access_log') accessLogs.push(file);
        next = file + tail;
      }
    } else if (name === 'root' && before === 1) {
      siteRoot = first.replace(/\/+$/, '');
      next = rw.treeDir;
    } else if (siteRoot !== undefined && (first === siteRoot || first.startsWith(siteRoot + '/'))) {
      // (siteRoot is '' for `root /;`: then every absolute path is under it.)
      next = rw.treeDir + first.slice(siteRoot.length);
    } else if (/\/harvester-[^/]*$/.test(first) || /artifacts/.test(first)) {
      hasArtifactsLocation = true;
      if (!rw.artifactsDir) throw new Error(`nginx config line ${i + 1}: ${name} ${first} needs an artifacts dir`);
      const base = path.posix.basename(first);
      next = base.startsWith('harvester-') && !first.endsWith('/') ? path.join(rw.artifactsDir, base) : rw.artifactsDir + '/';
    } else {
      throw new Error(`nginx config line ${i + 1}: the test does not know where to point "${line.trim()}"`);
    }
    if (next === undefined) return line;
    changes.push(`line ${i + 1}: ${name} ${value.trim()} -> ${next || '(removed)'}`);
    return next ? `${ind}${name}${sp}${next};` : `${ind}# (test) removed: ${line.trim()}`;
  });
  return { text: lines.join('\n'), changes, hasArtifactsLocation, accessLogs };
}

function stripComment(line: string): string {
  const i = line.indexOf('#');
  return i < 0 ? line : line.slice(0, i);
}

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

/** A prepared nginx prefix: the wrapper config, the rewritten snippet and the log paths. */
export interface NginxSetup {
  prefix: string;
  conf: string;
  site: string;
  server: RewrittenServer;
  errorLog: string;
  /** Every access log the rewritten config writes to (the http-level one first). */
  accessLogs: string[];
}

/**
 * Write `<prefix>/nginx.conf` (wrapper) and `<prefix>/site.conf` (the rewritten server block).
 * `extraServer` is inserted before the closing brace of the server block (test-only locations).
 */
export async function prepareNginx(opts: {
  prefix: string;
  snippet: string;
  rewrite: Omit<NginxRewrite, 'logDir'>;
  extraServer?: string;
}): Promise<NginxSetup> {
  const { prefix } = opts;
  await mkdir(path.join(prefix, 'logs'), { recursive: true });
  await mkdir(path.join(prefix, 'tmp'), { recursive: true });
  const logDir = path.join(prefix, 'logs');
  const server = rewriteServerBlock(opts.snippet, { ...opts.rewrite, logDir });
  let text = server.text;
  if (opts.extraServer) {
    const end = text.lastIndexOf('}');
    text = `${text.slice(0, end)}    # --- added by the test, not generated ---\n${opts.extraServer}\n${text.slice(end)}`;
  }
  const site = path.join(prefix, 'site.conf');
  await writeFile(site, text);
  const errorLog = path.join(logDir, 'error.log');
  const httpAccess = path.join(logDir, 'http-access.log');
  const conf = path.join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    [
      '# Test wrapper: the generated file is a conf.d snippet, included the way Debian includes it.',
      'daemon off;',
      'master_process off;', // one process: the PID we spawn is the whole server
      'user root;', // temp trees are 0700; the default worker user "nobody" would get 403
      'worker_processes 1;',
      `pid ${path.join(prefix, 'nginx.pid')};`,
      `error_log ${errorLog} info;`,
      'events { worker_connections 128; }',
      'http {',
      '    include /etc/nginx/mime.types;',
      '    default_type application/octet-stream;',
      '    sendfile on;',
      `    access_log ${httpAccess};`,
      `    client_body_temp_path ${path.join(prefix, 'tmp/client')};`,
      `    proxy_temp_path ${path.join(prefix, 'tmp/proxy')};`,
      `    fastcgi_temp_path ${path.join(prefix, 'tmp/fastcgi')};`,
      `    uwsgi_temp_path ${path.join(prefix, 'tmp/uwsgi')};`,
      `    scgi_temp_path ${path.join(prefix, 'tmp/scgi')};`,
      `    include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  const accessLogs = [httpAccess, ...server.accessLogs];
  return { prefix, conf, site, server, errorLog, accessLogs };
}

/** argv for nginx with this setup (`-p prefix -c nginx.conf -e stderr`), optionally inside a netns. */
export function nginxArgv(setup: NginxSetup, extra: string[] = [], ns?: Netns): string[] {
  const argv = ['nginx', '-p', setup.prefix + '/', '-c', setup.conf, '-e', 'stderr', ...extra];
  return ns ? ns.exec(argv) : argv;
}

/** `nginx -t` on the wrapper (binds the listen sockets, hence the netns for generated addresses). */
export function nginxTest(setup: NginxSetup, ns?: Netns): Promise<RunResult> {
  return run(nginxArgv(setup, ['-t'], ns), { timeoutMs: 20_000 });
}

/** Start nginx in the foreground (daemon off) and wait until host:port accepts connections. */
export async function startNginx(setup: NginxSetup, probe: { host: string; port: number }, ns?: Netns): Promise<Daemon> {
  const d = startDaemon('nginx', nginxArgv(setup, [], ns));
  const up = await waitFor(
    async () => {
      if (d.exited()) return 'exited';
      return (await (ns ? probeInNetns(ns, probe) : probeTcp(probe))) ? 'up' : undefined;
    },
    10_000,
    50,
  );
  if (up !== 'up') {
    await d.stop();
    const log = await readFile(setup.errorLog, 'utf8').catch(() => '');
    throw new Error(
      `nginx did not start listening on ${probe.host}:${probe.port} (${up ?? 'timeout'})\n$ ${d.cmd}\n${d.output()}\n--- error.log ---\n${log}`,
    );
  }
  return d;
}

function probeTcp({ host, port }: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function probeInNetns(ns: Netns, { host, port }: { host: string; port: number }): Promise<boolean> {
  // socat is a suite dependency anyway; it exits 0 once the connection is made.
  const target = host.includes(':') ? `TCP6:[${host}]:${port}` : `TCP:${host}:${port}`;
  const r = await run(ns.exec(['socat', '-u', 'OPEN:/dev/null', `${target},connect-timeout=1`]), { timeoutMs: 3000 });
  return r.code === 0;
}

/** Read every access log of a setup (missing ones are empty). */
export async function readAccessLogs(setup: NginxSetup): Promise<string> {
  const parts = await Promise.all(setup.accessLogs.map((f) => readFile(f, 'utf8').catch(() => '')));
  return parts.join('');
}

/** Report for a failed nginx run: command result plus the error log. */
export async function nginxFailure(setup: NginxSetup, r: RunResult): Promise<string> {
  const log = await readFile(setup.errorLog, 'utf8').catch(() => '');
  const site = await readFile(setup.site, 'utf8').catch(() => '');
  return `${describe(r)}\n--- error.log ---\n${log}\n--- site.conf (rewritten copy) ---\n${site}\n--- rewrites ---\n${setup.server.changes.join('\n')}`;
}

/**
 * Run a server block exactly as written (no rewriting): `<prefix>/site.conf` holds `server`,
 * wrapped in a minimal http block with every path in `prefix`. For configs whose paths the test
 * chose itself (forged models, the shared server block of docs/deploy.md).
 */
export async function wrapVerbatim(prefix: string, server: string): Promise<NginxSetup> {
  const site = path.join(prefix, 'site.conf');
  await mkdir(path.join(prefix, 'tmp'), { recursive: true });
  await writeFile(site, server);
  const errorLog = path.join(prefix, 'error.log');
  const conf = path.join(prefix, 'nginx.conf');
  const tmp = (n: string) => `    ${n}_temp_path ${path.join(prefix, 'tmp', n)};`;
  await writeFile(
    conf,
    [
      'daemon off;',
      'master_process off;',
      'user root;',
      `pid ${path.join(prefix, 'nginx.pid')};`,
      `error_log ${errorLog} info;`,
      'events { worker_connections 64; }',
      'http {',
      `    access_log ${path.join(prefix, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(tmp),
      `    include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  return {
    prefix,
    conf,
    site,
    errorLog,
    accessLogs: [],
    server: { text: server, changes: [], hasArtifactsLocation: false, accessLogs: [] },
  };
}

/** The shared server block of docs/deploy.md "Several sites on one boot server": `listen`, then each site's locations.conf. */
export function sharedServerBlock(listen: string, locations: readonly string[]): string {
  return [
    'server {',
    `    listen ${listen};`,
    '    server_name _;',
    '    autoindex off;',
    '    absolute_redirect off;',
    '    server_tokens off;',
    '    default_type application/octet-stream;',
    ...locations.map((l) => `    include ${l};`),
    '    location / {',
    '        return 404;',
    '    }',
    '}',
    '',
  ].join('\n');
}
