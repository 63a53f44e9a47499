// nginx around a switch (src/pull/store.ts): the new version's config is tested before the served
// link moves, and nginx is reloaded after. The test reads the new tree's own nginx/harvgen.conf
// through a temporary main config (`events {}` and an `http` block that includes it), so nginx
// checks its syntax, its directives and the files it includes, without touching the running
// server. The paths inside it name nginx.root, the served link, as the running server reads them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** nginx refused the new config, or a command could not run. */
export class NginxError extends Error {}

const TIMEOUT_MS = 60_000;

function runCommand(argv: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: TIMEOUT_MS });
  if (r.error) throw new NginxError(`${argv[0]} could not be run: ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Test `<versionDir>/nginx/harvgen.conf` with `command` (pull.json's nginx_test, default
 * `nginx -t`) and `-c <temporary main config>`; throws NginxError with nginx's own words.
 */
export function nginxCheck(versionDir: string, site: string, opts: { command?: readonly string[] } = {}): void {
  const command = opts.command ?? ['nginx', '-t'];
  const dir = mkdtempSync(join(tmpdir(), 'harvgen-nginx-test-'));
  try {
    const main = join(dir, 'nginx.conf');
    writeFileSync(
      main,
      `# harvgen pull: the config test of ${site}'s new version\n` +
        `pid ${join(dir, 'nginx.pid')};\nerror_log stderr;\nevents {}\nhttp {\n    include ${join(versionDir, 'nginx', 'harvgen.conf')};\n}\n`,
    );
    const r = runCommand([...command, '-c', main]);
    if (r.status !== 0) throw new NginxError(`nginx refuses the new version's config: ${r.output.split(dir).join('<test>')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run pull.json's nginx_reload (default `nginx -s reload`); NginxError with its output when it fails. */
export function nginxReload(command: readonly string[] = ['nginx', '-s', 'reload']): void {
  const r = runCommand(command);
  if (r.status !== 0) throw new NginxError(`\`${command.join(' ')}\` failed: ${r.output}`);
}
