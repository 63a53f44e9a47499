// Masking by construction (issue 20, finding 4): a secret written in any YAML scalar style
// (plain, single-quoted, double-quoted with escapes, literal, folded, plain over several lines,
// double-quoted continued with `\`), at any secret key (cluster.token, cluster.password, a node
// file's config.os.password), next to a warning, next to an error, in a file that fails before
// secrets are resolved (`__proto__`, `!!binary`, a YAML syntax error), or reused in another
// field, shows in no output channel: `check` text and --json, `build` text and --json, `explain`
// text and --json, `build --diff`, `watch --json`. Checked by generated inventories: every style
// goes through every slot (rotations), and every fragment of every secret, as written and as
// read, is searched for in everything printed.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli.ts';
import { redact, secretForms } from '../src/load/secrets.ts';
import { maskSpans, secretSpans } from '../src/load/mask.ts';
import { parse, parseDocument } from 'yaml';
import { minimalSiteHead } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));

/** One scalar style: how the value is written after `key: ` (continuation lines at `ind`), its fragments. */
interface Style {
  readonly name: string;
  /** The value as written, for a key indented by `keyIndent` spaces. */
  readonly yaml: (keyIndent: number) => string;
  /** Pieces of the secret (as written and as read) that must appear in no output. */
  readonly fragments: readonly string[];
  /** Printable ASCII on one line once read: may be a cluster token without an error of its own. */
  readonly tokenSafe: boolean;
}

const pad = (n: number) => ' '.repeat(n + 2);
const STYLES: readonly Style[] = [
  { name: 'plain', yaml: () => 'PlainSecret-Q7v2.k9', fragments: ['PlainSecret-Q7v2', 'Q7v2.k9'], tokenSafe: true },
  {
    name: 'single-quoted',
    yaml: () => "'Single''Quote-W3x8.m2'",
    fragments: ["Single'Quote", "Single''Quote", 'Quote-W3x8'],
    tokenSafe: true,
  },
  {
    name: 'double-quoted with escapes',
    yaml: () => '"Dbl\\x41Esc\\u0042aped-R5t1.p4"',
    fragments: ['DblAEscBaped', 'Dbl\\x41Esc', 'Esc\\u0042aped', 'aped-R5t1'],
    tokenSafe: true,
  },
  {
    name: 'literal',
    yaml: (k) => `|\n${pad(k)}LitFirst-H2j6.n1\n${pad(k)}LitSecond-F8d3.b7`,
    fragments: ['LitFirst-H2j6', 'LitSecond-F8d3'],
    tokenSafe: false,
  },
  {
    name: 'folded',
    yaml: (k) => `>-\n${pad(k)}FoldFirst-C4g9.v5\n${pad(k)}FoldSecond-Z1y7.x3`,
    fragments: ['FoldFirst-C4g9', 'FoldSecond-Z1y7'],
    tokenSafe: true,
  },
  {
    name: 'multi-line plain',
    yaml: (k) => `PlainFirst-N6b2.w8\n${pad(k)}PlainSecond-L9k4.s6`,
    fragments: ['PlainFirst-N6b2', 'PlainSecond-L9k4'],
    tokenSafe: true,
  },
  {
    name: 'double-quoted continued',
    yaml: (k) => `"DqFirst-T3r5.u7\\\n${pad(k)}DqSecond-E2w6.i9"`,
    fragments: ['DqFirst-T3r5', 'DqSecond-E2w6'],
    tokenSafe: true,
  },
];

/** A password reused verbatim as a kernel argument of its node (explain and --diff show kernel arguments). */
const REUSED = 'ReusedSecret-K4m8.q1';

type Kind = 'warning' | 'error' | 'early';

/**
 * A site in a repository of its own: cluster.token and cluster.password in site.yaml, and
 * nodes/n1..n5.yaml each with a config.os.password, the styles rotated by `r` over these seven
 * slots; n6 reuses its password as a kernel argument. `warning`: the secrets are the only
 * finding (SECRET_INLINE warnings, the build succeeds); `error`: an unknown key right after each
 * secret; `early`: the files fail to load next to the secrets (`__proto__`, `!!binary`, a YAML
 * syntax error), before any secret is resolved.
 */
function inventory(kind: Kind, r: number): { dir: string; fragments: string[] } {
  const repo = tempDir('masking');
  mkdirSync(join(repo, '.git'));
  const dir = join(repo, 'sites', 'mask');
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  const tokenStyles = STYLES.filter((s) => s.tokenSafe);
  const token = tokenStyles[r % tokenStyles.length]!;
  const styleAt = (slot: number) => STYLES[(slot + r) % STYLES.length]!;
  const used = [token, ...[1, 2, 3, 4, 5, 6].map(styleAt)];
  const after = (i: number, indent: number) =>
    kind === 'error'
      ? `${' '.repeat(indent)}bogus_key_${i}: 1\n`
      : kind === 'early'
        ? [`${' '.repeat(indent)}__proto__: 1\n`, `${' '.repeat(indent)}odd: !!binary aGVsbG8=\n`, `${' '.repeat(indent)}broken: [1, 2\n`][
            i % 3
          ]!
        : '';
  writeFileSync(
    join(dir, 'site.yaml'),
    `${minimalSiteHead('mask')}  vip: 10.0.0.10
  token: ${token.yaml(2)}
${after(0, 2)}  password: ${styleAt(1).yaml(2)}
${kind === 'early' ? '' : after(1, 2)}defaults:
  install:
    device: /dev/vda
`,
  );
  for (let n = 1; n <= 5; n++) {
    writeFileSync(
      join(dir, 'nodes', `n${n}.yaml`),
      `mac: 52:54:00:00:00:0${n}
ip: 10.0.0.1${n}
config:
  os:
    password: ${styleAt(n + 1).yaml(4)}
${after(n + 1, kind === 'early' ? 4 : 0)}`,
    );
  }
  writeFileSync(
    join(dir, 'nodes', 'n6.yaml'),
    `mac: 52:54:00:00:00:06
ip: 10.0.0.16
kernel_args: [${REUSED}]
config:
  os:
    password: ${REUSED}
`,
  );
  const fragments = [...new Set([...used.flatMap((s) => s.fragments), REUSED])];
  return { dir, fragments: [...fragments, ...fragments.map((f) => JSON.stringify(f).slice(1, -1))] };
}

/** Run the CLI in this process (the code `bin/harvgen.js` runs), collecting both streams. */
async function run(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main([...args, '--no-color'], {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

/** The first line `watch --json` prints (its first build), then Ctrl-C. */
function watchFirstLine(dir: string, deploy = false): Promise<string> {
  const w = spawn(process.execPath, [bin, 'watch', dir, '--out', tempDir('mask-watch'), '--json', ...(deploy ? ['--deploy'] : [])], {
    env: { ...process.env, NO_COLOR: '1', HG_MASK_TOKEN: 'EnvToken-J7h3.c5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<string>((resolve, reject) => {
    let buf = '';
    let err = '';
    const t = setTimeout(() => {
      w.kill('SIGKILL');
      reject(new Error(`watch printed nothing: ${err}`));
    }, 30_000);
    w.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) {
        clearTimeout(t);
        w.kill('SIGINT');
        resolve(buf + err);
      }
    });
    w.stderr.on('data', (d: Buffer) => (err += d.toString()));
    w.on('exit', (code) => {
      clearTimeout(t);
      if (!buf.includes('\n')) reject(new Error(`watch exited (${code}) before printing: ${err}`));
    });
  });
}

/** Every channel of one site, as printed. */
async function allChannels(
  dir: string,
  node: string,
  extra: readonly string[] = [],
): Promise<{ printed: string; codes: Record<string, number> }> {
  const out = tempDir('mask-out');
  const channels: Record<string, string[]> = {
    check: ['check', dir, ...extra],
    'check --json': ['check', dir, '--json', ...extra],
    build: ['build', dir, '--out', out, ...extra],
    'build --json': ['build', dir, '--out', out, '--json', '--debug', ...extra],
    'build --diff': ['build', dir, '--out', tempDir('mask-diff'), '--diff', ...extra],
    'build --diff --json': ['build', dir, '--out', tempDir('mask-diff'), '--diff', '--json', ...extra],
    explain: ['explain', dir, node],
    'explain --json': ['explain', dir, node, '--json'],
  };
  const parts: string[] = [];
  const codes: Record<string, number> = {};
  for (const [name, args] of Object.entries(channels)) {
    const r = await run(args);
    codes[name] = r.code;
    parts.push(`== ${name}\n${r.out}\n${r.err}`);
  }
  parts.push(`== watch --json\n${await watchFirstLine(dir, extra.includes('--deploy'))}`);
  return { printed: parts.join('\n'), codes };
}

function assertNoFragment(printed: string, fragments: readonly string[], what: string): void {
  for (const f of fragments) {
    const at = printed.indexOf(f);
    assert.ok(at < 0, `${what}: ${JSON.stringify(f)} was printed:\n${printed.slice(Math.max(0, at - 600), at + 200)}`);
  }
}

for (const r of [0, 1, 2]) {
  test(`rotation ${r}: secrets next to warnings only: a successful build prints their code frames masked`, async () => {
    const { dir, fragments } = inventory('warning', r);
    const { printed, codes } = await allChannels(dir, 'n6');
    assert.equal(
      [codes.check, codes.build, codes['build --json'], codes.explain],
      [0, 0, 0, 0],
      `the site builds (its only findings are warnings):\n${printed.slice(0, 3000)}`,
    );
    // The warnings were printed with their code frames (the lines of the secrets), masked.
    assert.ok((printed.match(/SECRET_INLINE/g) ?? []).length >= 7, 'a SECRET_INLINE warning per inline secret');
    assert.match(printed, /> +\d+ \| +password: \*\*\*/);
    assert.match(printed, /"ok": true/);
    assertNoFragment(printed, fragments, `warning inventory, rotation ${r}`);
  });

  test(`rotation ${r}: secrets next to errors: every frame and message masked`, async () => {
    const { dir, fragments } = inventory('error', r);
    const { printed, codes } = await allChannels(dir, 'n6');
    assert.is(codes.check, 1, printed.slice(0, 2000));
    assert.is(codes.build, 1);
    assert.match(printed, /SCHEMA_UNKNOWN_KEY/);
    assertNoFragment(printed, fragments, `error inventory, rotation ${r}`);
  });

  test(`rotation ${r}: secrets in files that fail to load (__proto__, !!binary, a syntax error): masked`, async () => {
    const { dir, fragments } = inventory('early', r);
    const { printed, codes } = await allChannels(dir, 'n6');
    assert.is(codes.check, 1, printed.slice(0, 2000));
    assert.match(printed, /YAML_TAG/);
    assertNoFragment(printed, fragments, `early inventory, rotation ${r}`);
  });
}

test('the deploy tree: a token from the environment and a password file with quotes and a backslash, in every channel', async () => {
  const repo = tempDir('masking-deploy');
  mkdirSync(join(repo, '.git'));
  const dir = join(repo, 'sites', 'mask');
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  const password = 'File"Pass\\word-G6f2.a8';
  writeFileSync(join(dir, 'secrets', 'password'), `${password}\n`);
  writeFileSync(
    join(dir, 'site.yaml'),
    `${minimalSiteHead('mask')}  vip: 10.0.0.10
  token: { env: HG_MASK_TOKEN }
  password: { file: secrets/password }
defaults:
  install:
    device: /dev/vda
nodes:
  - hostname: n1
    mac: 52:54:00:00:00:01
    ip: 10.0.0.11
`,
  );
  process.env.HG_MASK_TOKEN = 'EnvToken-J7h3.c5';
  try {
    const { printed, codes } = await allChannels(dir, 'n1', ['--deploy']);
    assert.is(codes.build, 0, printed.slice(0, 3000));
    assert.match(printed, /diff --git/, 'the diff was printed');
    assertNoFragment(
      printed,
      ['EnvToken-J7h3', 'J7h3.c5', password, JSON.stringify(password).slice(1, -1), 'Pass\\word', 'word-G6f2'],
      'deploy',
    );
  } finally {
    delete process.env.HG_MASK_TOKEN;
  }
});

test('masking helpers: every scalar style of a secret key is blanked whole, lines and other keys kept', () => {
  for (const s of STYLES) {
    const text = `cluster:\n  vip: 10.0.0.10\n  password: ${s.yaml(2)}\n  next: kept\nx: { token: ${s.name === 'plain' ? 'FlowSecret-P1' : "'FlowSecret-P1'"}, y: 2 }\n`;
    const masked = maskSpans(text, secretSpans(text));
    assert.is(masked.split('\n').length, text.split('\n').length, `${s.name}: lines kept`);
    assert.match(masked, /vip: 10\.0\.0\.10\n {2}password: \*\*\*/, s.name);
    assert.match(masked, /next: kept/, s.name);
    assert.match(masked, /y: 2 }/, s.name);
    for (const f of [...s.fragments, 'FlowSecret']) assert.not.ok(masked.includes(f), `${s.name}: ${f} in\n${masked}`);
    // What the text says the secret is, also read back by YAML.
    const value = (parse(text) as { cluster: { password: string } }).cluster.password;
    assert.is(redact(`got ${JSON.stringify(value)} and ${value}`, [value]), 'got "***" and ***', s.name);
  }
  // Keys a line scan alone cannot read (an escaped key, an explicit key, an alias as a key) and a
  // JSON-style flow mapping; as a clean file (its Document given) and as a broken one.
  for (const text of [
    'a: {"token":"JsonStyle-S1x"}\n',
    '? token\n: ExplicitKey-S2y\n',
    '"tok\\x65n": EscapedKey-S3z\n',
    'k: &k password\nx:\n  *k : AliasKey-S4w\n',
  ]) {
    for (const clean of [() => parseDocument(text), undefined]) {
      const masked = maskSpans(text, secretSpans(text, clean));
      assert.not.match(masked, /-S[1-4]/, `${JSON.stringify(text)} (${clean ? 'clean' : 'broken'}): ${masked}`);
    }
  }
  // A reference is no secret: the variable's name stays readable.
  const ref = 'cluster:\n  token: { env: HARVGEN_TOKEN }\n  password:\n    file: secrets/password\n';
  assert.is(maskSpans(ref, secretSpans(ref)), ref);
  // A mapping at a secret key that is not a reference: every value but `env:` / `file:` masked.
  const odd =
    'cluster:\n  token: { value: MapSecret-D4, env: KEPT_NAME }\n  password:\n    value: BlockMapSecret-E5\n    file: kept/path\n';
  for (const clean of [() => parseDocument(odd), undefined]) {
    const masked = maskSpans(odd, secretSpans(odd, clean));
    assert.not.match(masked, /MapSecret/, masked);
    assert.match(masked, /env: KEPT_NAME/);
    assert.match(masked, /file: kept\/path/);
  }
});

/** A site of its own with `cluster` (the YAML after `cluster:`) and the given node files, for the cases below. */
function smallSite(name: string, cluster: string, nodes: Record<string, string>, before = ''): string {
  const repo = tempDir(name);
  mkdirSync(join(repo, '.git'));
  const dir = join(repo, 'sites', 'mask');
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  writeFileSync(
    join(dir, 'site.yaml'),
    // The head ends in `cluster:` and a newline: the cluster's YAML takes its place after the colon.
    `${minimalSiteHead('mask', `defaults:\n  install:\n    device: /dev/vda\n${before}`).slice(0, -1)}${cluster}\n`,
  );
  for (const [n, text] of Object.entries(nodes)) writeFileSync(join(dir, 'nodes', `${n}.yaml`), text);
  return dir;
}

const N1 = { n1: 'mac: 52:54:00:00:00:01\nip: 10.0.0.11\n' };

test('a secret in a flow mapping continued on the next line: its second line is masked in the code frame of a successful check', async () => {
  const dir = smallSite(
    'mask-flow',
    ' { vip: 10.0.0.10, password: { env: HG_MASK_PASSWORD }, token: FIRSTHALF\n    SECONDHALFSECRET }',
    N1,
  );
  const { printed, codes } = await allChannels(dir, 'n1');
  assert.equal([codes.check, codes.build], [0, 0], printed.slice(0, 3000));
  assert.match(printed, /SECRET_INLINE/);
  assertNoFragment(printed, ['FIRSTHALF', 'SECONDHALFSECRET'], 'flow mapping continued');
  assert.match(printed, /\| +\*\*\* }/, 'the continued line is in the frame, masked');
});

for (const [style, anchored] of [
  ['folded', '>-\n  part-one-of-secret\n  part-two-of-secret'],
  ['multi-line plain', 'part-one-of-secret\n  part-two-of-secret'],
] as const) {
  test(`an anchor (${style}) written elsewhere and used as the secret (token: *tok): the anchor's lines are masked`, async () => {
    // The anchor just above the alias, so that the code frame of its SECRET_INLINE shows its last line.
    const cluster = ' { token: *tok, vip: 10.0.0.10, password: { env: HG_MASK_PASSWORD } }';
    const dir = smallSite('mask-anchor', cluster, N1, `description: &tok ${anchored}\n`);
    const { printed, codes } = await allChannels(dir, 'n1');
    assert.equal([codes.check, codes.build], [0, 0], printed.slice(0, 3000));
    assert.match(printed, /SECRET_INLINE/);
    assertNoFragment(printed, ['part-one', 'part-two', 'one-of-secret', 'two-of-secret'], `anchor, ${style}`);
    assert.match(printed, /\| +\*\*\*\n.*> +\d+ \| cluster: \{ token: \*\*\*/, 'the anchor is in the frame, masked');
  });
}

test('explain masks a number (or any scalar) at a secret key under config:', async () => {
  const dir = smallSite('mask-number', '\n  vip: 10.0.0.10\n  password: { env: HG_MASK_PASSWORD }\n  token: { env: HG_MASK_TOKEN }', {
    n1: 'mac: 52:54:00:00:00:01\nip: 10.0.0.11\nconfig: { os: { password: 24681357913579 }, token: 11223344556677 }\n',
  });
  for (const args of [
    ['explain', dir, 'n1'],
    ['explain', dir, 'n1', '--json'],
  ]) {
    const r = await run(args);
    const printed = `${r.out}\n${r.err}`;
    assert.is(r.code, 0, printed);
    assert.match(printed, /\*\*\*/);
    assertNoFragment(printed, ['24681357913579', '11223344556677'], args.join(' '));
  }
});

test('masking helpers: a flow value continued on the next line and an anchor used at a secret key are blanked by range', () => {
  for (const text of [
    'cluster: { vip: 10.0.0.10, token: FlowFirst-A1\n    FlowSecond-A2 }\nnext: kept\n',
    'cluster: { vip: 10.0.0.10,\n  token: FlowFirst-A1\n  FlowSecond-A2 }\nnext: kept\n',
    'description: &tok >-\n  FoldedFirst-A1\n  FoldedSecond-A2\ncluster:\n  token: *tok\nnext: kept\n',
    'description: &tok PlainFirst-A1\n  PlainSecond-A2\ncluster:\n  password: *tok\nnext: kept\n',
    'shared: &s { value: MapFirst-A1 }\ncluster:\n  token: *s\nnext: kept\n',
  ]) {
    for (const clean of [() => parseDocument(text), undefined]) {
      const masked = maskSpans(text, secretSpans(text, clean));
      assert.not.match(masked, /-A[12]/, `${JSON.stringify(text)} (${clean ? 'clean' : 'broken'}): ${masked}`);
      assert.match(masked, /next: kept/);
    }
  }
  // The line scan alone (a file broken before the parser gets there) reads a flow value on.
  const broken = 'cluster: { vip: 10.0.0.10, token: FlowFirst-B1\n    FlowSecond-B2 }\n  bad: [\n';
  assert.not.match(maskSpans(broken, secretSpans(broken)), /-B[12]/);
  // Value masking: each whitespace-separated part of a secret (a line of a folded one).
  assert.is(redact('x part-one-of-secret y part-two-of-secret', ['part-one-of-secret part-two-of-secret']), 'x *** y ***');
});

test('redact: escaped forms, each line of a multi-line secret, and a prefix cut short with an ellipsis', () => {
  const s = 'line-one-Ab\nline-two-"Cd"\\x';
  assert.ok(secretForms([s]).includes(JSON.stringify(s).slice(1, -1)));
  assert.is(redact(JSON.stringify({ v: s }), [s]), '{"v":"***"}');
  assert.is(redact('a line-one-Ab b', [s]), 'a *** b');
  assert.is(redact('the string "line-one-Ab\\nline-t…"', [s]), 'the string "***\\n***…"');
  const long = 'x'.repeat(100) + 'Secret';
  assert.is(redact(`got "${long.slice(0, 40)}…"`, [long]), 'got "***…"');
  assert.is(redact('short abc… stays', ['abcdef']), 'short abc… stays', 'a prefix shorter than 4 characters is not masked');
});

test.run();
