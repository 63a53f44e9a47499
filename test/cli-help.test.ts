// `harvgen help`, `help <command>`, `help <topic>` (a docs page as plain text), an unknown topic,
// and `harvgen completion bash|zsh`: each script is checked by its shell and asked to complete
// a command and a flag, as the shell would when Tab is pressed.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { requireProgram } from './real/helpers/programs.ts';
import { TOPICS } from '../src/cli/help/topics.ts';

const repo = resolve(import.meta.dirname, '..');

test('harvgen help lists every command and every help topic', () => {
  const r = runCli(['help']);
  assert.is(r.code, 0, r.stderr);
  for (const c of ['check', 'build', 'watch', 'verify', 'status', 'discover', 'explain', 'init', 'hash-password', 'completion', 'help'])
    assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
  for (const t of TOPICS)
    assert.match(r.stdout, new RegExp(`^  ${t.name} +${t.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), t.name);
});

test('harvgen help <topic> prints the docs page as plain text: no Markdown marks, code blocks indented', () => {
  const r = runCli(['help', 'inventory']);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith('The inventory: sites, layers, profiles and secrets\n====='), r.stdout.slice(0, 200));
  assert.match(r.stdout, /^Layers and profiles\n-+$/m);
  assert.match(r.stdout, /^    # yaml-language-server: \$schema=\.\.\/\.\.\/schema\/site\.schema\.json$/m);
  assert.match(r.stdout, /^Precedence: a node's own value/m);
  assert.not.match(r.stdout, /```|<!--|\]\(/);
  assert.not.match(r.stdout, /^#+ /m);
});

test('every help topic prints its page, and the text comes from the docs/ file itself', () => {
  for (const t of TOPICS) {
    const r = runCli(['help', t.name]);
    assert.is(r.code, 0, `${t.name}: ${r.stderr}`);
    const title = /^# (.*)$/m.exec(readFileSync(join(repo, 'docs', t.page), 'utf8'))![1]!.replace(/`/g, '');
    assert.ok(r.stdout.startsWith(`${title}\n`), `${t.name}: ${r.stdout.slice(0, 80)}`);
  }
});

test('no help topic is named like a command', () => {
  const r = runCli(['help']);
  for (const t of TOPICS) assert.not.match(r.stdout, new RegExp(`\\$ harvgen ${t.name} --help`), t.name);
});

test('a link to another page names its help topic', () => {
  const r = runCli(['help', 'troubleshooting']);
  assert.match(r.stdout, /Diagnostic codes \(harvgen help codes\)/);
});

test("harvgen help <command> prints that command's help, as <command> --help does", () => {
  const a = runCli(['help', 'build']);
  const b = runCli(['build', '--help']);
  assert.is(a.code, 0);
  assert.is(a.stdout, b.stdout);
  assert.match(a.stdout, /--jobs <n>/);
});

test('an unknown help topic is a usage error (exit 2) that lists the topics and suggests the closest', () => {
  const r = runCli(['help', 'inventroy']);
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /CLI_USAGE: unknown help topic or command "inventroy"; did you mean "inventory"\?/);
  for (const t of TOPICS) assert.ok(r.stderr.includes(t.name), t.name);
  const j = runCli(['help', 'nope', '--json']);
  assert.is(j.code, 2);
  assert.is((JSON.parse(j.stdout) as { diagnostics: { code: string }[] }).diagnostics[0]!.code, 'CLI_USAGE');
});

test('harvgen completion with an unknown shell is a usage error (exit 2)', () => {
  const r = runCli(['completion', 'fish']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /no completion for shell "fish"; shells: bash, zsh/);
});

/** What the bash script completes for the words typed so far (the last one is being completed). */
function bashComplete(script: string, typed: string[]): string[] {
  const dir = tempDir('complete');
  writeFileSync(join(dir, 'harvgen.bash'), script);
  const words = typed.map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    ['-c', `source harvgen.bash; COMP_WORDS=(${words}); COMP_CWORD=${typed.length - 1}; _harvgen; printf '%s\\n' "\${COMPREPLY[@]}"`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('the bash completion script passes bash -n and completes commands, flags, help topics and shells', () => {
  const r = runCli(['completion', 'bash']);
  assert.is(r.code, 0, r.stderr);
  const dir = tempDir('bash-n');
  writeFileSync(join(dir, 'harvgen.bash'), r.stdout);
  const syntax = spawnSync('bash', ['-n', join(dir, 'harvgen.bash')], { encoding: 'utf8' });
  assert.is(syntax.status, 0, syntax.stderr);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'bu']), ['build']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'build', '--dr']), ['--dry-run']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'build', 'sites/x', '--jo']), ['--jobs']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'verify', '--public']), ['--public-key']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'check', '--st']), ['--strict']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'help', 'day']), ['day-2']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'completion', 'z']), ['zsh']);
  // A flag that takes no value elsewhere is not offered: watch has no --jobs.
  assert.equal(bashComplete(r.stdout, ['harvgen', 'watch', '--jo']), []);
  // The global flags once each, -v and --version among them.
  assert.equal(bashComplete(r.stdout, ['harvgen', 'check', '--h']), ['--help']);
  assert.equal(bashComplete(r.stdout, ['harvgen', '--v']), ['--version']);
  // A value is completed as a file name after a flag that takes one for this command only:
  // init --nodes <n> takes one, status --nodes none (then only directories, the site arguments).
  assert.equal(bashComplete(r.stdout, ['harvgen', 'init', 'sites/x', '--nodes', '']), ['harvgen.bash']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'status', '--nodes', '']), []);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'publish', '--releases', '']), ['harvgen.bash']);
  assert.equal(bashComplete(r.stdout, ['harvgen', 'verify', '--releases', '']), []);
});

test('the zsh completion script passes zsh -n and completes a command and a flag', () => {
  // A missing zsh skips loudly on a laptop and fails in CI (HARVGEN_REQUIRE_REAL=1).
  if (!requireProgram('zsh')) return;
  const r = runCli(['completion', 'zsh']);
  assert.is(r.code, 0, r.stderr);
  const dir = tempDir('zsh');
  writeFileSync(join(dir, '_harvgen'), r.stdout);
  const syntax = spawnSync('zsh', ['-n', join(dir, '_harvgen')], { encoding: 'utf8' });
  assert.is(syntax.status, 0, syntax.stderr);
  // compadd, _describe and _files stand in for the completion system: they print what they offer.
  const complete = (typed: string[]) => {
    const words = typed.map((w) => `'${w}'`).join(' ');
    const run = spawnSync(
      'zsh',
      [
        '-c',
        `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print -- "_files:$*"; }
         _describe() { local -a list; list=("\${(@P)4}"); print -l -- "\${list[@]%%:*}"; }
         source ./_harvgen; words=(${words}); CURRENT=${typed.length}; PREFIX='${typed.at(-1)}'; _harvgen`,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.is(run.status, 0, run.stderr);
    return run.stdout.split('\n').filter((l) => l !== '' && l.startsWith(typed.at(-1)!));
  };
  assert.equal(complete(['harvgen', 'bu']), ['build']);
  assert.equal(complete(['harvgen', 'build', '--dr']), ['--dry-run']);
  assert.equal(complete(['harvgen', 'help', 'day']), ['day-2']);
  // After a flag that takes a value for this command, a file (`_files`); else a directory (`_files -/`).
  assert.equal(complete(['harvgen', 'init', 'sites/x', '--nodes', '']), ['_files:']);
  assert.equal(complete(['harvgen', 'status', '--nodes', '']), ['_files:-/']);
});

test.run();
