// The package as users get it, made from a copy of this checkout so that nothing a test runs
// (npm pack, npm's `prepare` in a git dependency, a moved mtime) touches this checkout's dist/
// while other test files run the binary from it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './tmp.ts';

export const repo = resolve(import.meta.dirname, '../..');

/** True when `path` is a symbolic link (whether or not its target exists). */
const isLink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

/** What a shell command printed and how it ended. */
export type ShResult = { readonly code: number; readonly out: string };

/** npm's own variables of an `npm test` run, which would otherwise reach the npm a test runs. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_/i.test(k) || /^npm_config_(cache|registry|userconfig)$/i.test(k)) env[k] = v;
  return {
    ...env,
    NO_COLOR: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_prefer_offline: 'true',
    GIT_AUTHOR_NAME: 'harvgen test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'harvgen test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    ...extra,
  };
}

/** Run a command (no shell) in `cwd`. */
export function sh(cmd: string, args: readonly string[], cwd: string, extra: Record<string, string> = {}): ShResult {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000, env: cleanEnv(extra) });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** Run a shell command line (as a CI step runs it) in `cwd`. */
export function shLine(line: string, cwd: string, extra: Record<string, string> = {}): ShResult {
  return sh('bash', ['-eo', 'pipefail', '-c', line], cwd, extra);
}

/** Like `sh`, but throw with the output when the command fails. */
export function must(cmd: string, args: readonly string[], cwd: string): string {
  const r = sh(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.out}`);
  return r.out;
}

/**
 * A copy of this checkout as one commit of a fresh git repository: the files git tracks or would
 * track (untracked ones too, so that uncommitted work is what is tested), without node_modules/
 * or dist/ (ignored). Its HEAD is what `npm install git+file://<copy>#<commit>` installs.
 * node_modules, .tmp and dist are left out by name too: in a worktree they may be symbolic links
 * (to another checkout's), which `node_modules/` in .gitignore does not match, and an `npm ci` in
 * a clone of a copy holding such a link would empty the directory it points to.
 */
export function snapshotRepo(): { dir: string; commit: string } {
  const dir = tempDir('snapshot');
  // tar copies the listed files fast, skipping any deleted in the working tree but still in the index.
  const r = shLine(
    `git -C ${JSON.stringify(repo)} ls-files -z --cached --others --exclude-standard -- . ':(exclude)node_modules' ':(exclude).tmp' ':(exclude)dist' | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C ${JSON.stringify(dir)}`,
    repo,
  );
  if (r.code !== 0) throw new Error(`copying the checkout failed:\n${r.out}`);
  for (const f of ['node_modules', '.tmp', 'dist'])
    if (existsSync(join(dir, f)) || isLink(join(dir, f))) throw new Error(`the copy of the checkout holds ${f}`);
  must('git', ['init', '-q', '-b', 'main'], dir);
  must('git', ['add', '-A'], dir);
  must('git', ['commit', '-q', '-m', 'snapshot'], dir);
  return { dir, commit: must('git', ['rev-parse', 'HEAD'], dir).trim() };
}

/**
 * `npm pack` of a snapshot with this checkout's compiled dist/ (which `npm test` builds first) and
 * `--ignore-scripts`, so `prepare` compiles nothing: returns the tarball's path.
 */
export function packSnapshot(snapshot: string): string {
  cpSync(join(repo, 'dist'), join(snapshot, 'dist'), { recursive: true });
  const dest = tempDir('tarball');
  must('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dest], snapshot);
  const tarball = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball in ${dest}`);
  return join(dest, tarball);
}

/**
 * The files the command runs from (bin/, dist/, templates/, schema/, package.json) in a temporary
 * directory, with this checkout's node_modules/ linked: a harvgen whose code files a test may
 * touch without changing the one other tests run. Returns the path of its bin/harvgen.js.
 */
export function commandCopy(): string {
  const dir = tempDir('command');
  for (const f of ['bin', 'dist', 'templates', 'schema', 'package.json']) cpSync(join(repo, f), join(dir, f), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'bin/harvgen.js');
}

/** A user's inventory repository: `git init` and `npm init -y` in a fresh directory. */
export function userRepo(label = 'user'): string {
  const dir = tempDir(label);
  must('git', ['init', '-q', '-b', 'main'], dir);
  must('npm', ['init', '-y'], dir);
  writeFileSync(join(dir, '.gitignore'), 'node_modules/\n');
  return dir;
}
