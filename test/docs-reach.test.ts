// Everything a user can type or meet is documented and reachable: every command and flag (from
// the cac definitions), every inventory setting (from schema/site.schema.json), every diagnostic
// code and every installer rule is named in some page of docs/ and in the text of some
// `harvgen help <topic>`; every relative Markdown link resolves, anchors included; README.md stays
// short; the user docs (README.md, docs/ outside docs/dev/) carry no issue numbers and name no
// test files.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODES } from '../src/index.ts';
import { INSTALLER_RULES } from '../src/harvester/installer-rules.ts';
import { topicText, TOPICS } from '../src/cli/help/topics.ts';
import { definedCli, optionNames } from '../scripts/cli-definitions.ts';

const repo = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(repo, path), 'utf8');
const docsPages = fg.sync('docs/**/*.md', { cwd: repo }).sort();
const userPages = docsPages.filter((p) => !p.startsWith('docs/dev/'));
const docs = docsPages.map(read).join('\n');
const help = TOPICS.map((t) => topicText(t)).join('\n');
/** Pages written on another branch at the same time; links to them are checked once they exist. */
const WRITTEN_ELSEWHERE = ['CHANGELOG.md'];

/** Every way to write `word` as a whole word (not part of a longer flag, path or name). */
const mentions = (text: string, word: string) =>
  new RegExp(`(^|[^\\w.-])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'm').test(text);

/** What is not mentioned in the docs and what not in the help topics. */
function unreached(words: readonly string[]): { docs: string[]; help: string[] } {
  return { docs: words.filter((w) => !mentions(docs, w)), help: words.filter((w) => !mentions(help, w)) };
}

test('every command and every flag is named in docs/ and in a help topic', () => {
  const cli = definedCli();
  const words = [
    ...cli.commands.map((c) => `harvgen ${c.name}`),
    ...[cli.globalCommand, ...cli.commands].flatMap((c) => c.options.flatMap((o) => optionNames(o.rawName))),
  ];
  assert.ok(words.length > 40, `${words.length} words`);
  assert.equal(unreached([...new Set(words)]), { docs: [], help: [] });
});

test('every inventory setting of schema/site.schema.json is named in docs/ and in a help topic', () => {
  interface Node {
    properties?: Record<string, Node>;
    items?: Node;
  }
  const paths: string[] = [];
  const walk = (node: Node, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key === '$schema') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      if (key !== 'defaults') walk(child, path);
      if (child.items) walk(child.items, `${path}[]`);
    }
  };
  walk(JSON.parse(read('schema/site.schema.json')) as Node, '');
  assert.ok(paths.length > 100, `${paths.length} settings`);
  assert.equal(unreached(paths), { docs: [], help: [] });
});

test('every diagnostic code is named in docs/ and in a help topic', () => {
  assert.equal(unreached(Object.keys(CODES)), { docs: [], help: [] });
});

test('every installer rule is named in docs/ and in a help topic', () => {
  assert.ok(INSTALLER_RULES.length > 5);
  assert.equal(unreached(INSTALLER_RULES.map((r) => r.id)), { docs: [], help: [] });
});

test('every page of the user docs is a help topic, every topic a page, and docs/index.md links each', () => {
  const topicPages = TOPICS.map((t) => `docs/${t.page}`);
  const index = read('docs/index.md');
  for (const page of userPages.filter((p) => p !== 'docs/index.md')) {
    assert.ok(topicPages.includes(page), `${page} is no help topic`);
    assert.ok(index.includes(`](${relative('docs', page)})`), `docs/index.md does not link ${page}`);
  }
  for (const page of topicPages) assert.ok(existsSync(join(repo, page)), `${page} does not exist`);
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a Markdown file (repeated headings get -1, -2, ...). */
function anchors(path: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of read(path).split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const m = !fence && /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

/** The links of a Markdown file outside code blocks and code spans. */
function links(path: string): string[] {
  const text = read(path)
    .replace(/^\s*```[\s\S]*?^\s*```/gm, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

test('every relative link of README.md, docs/, CONTRIBUTING.md and ARCHITECTURE.md resolves, anchors included', () => {
  const files = ['README.md', 'CONTRIBUTING.md', 'ARCHITECTURE.md', ...docsPages];
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const href of links(file)) {
      if (/^[a-z]+:/i.test(href)) continue;
      const [path = '', anchor] = href.split('#');
      const target = path === '' ? file : relative(repo, resolve(repo, dirname(file), path));
      checked++;
      if (!existsSync(join(repo, target))) {
        if (WRITTEN_ELSEWHERE.includes(target)) console.warn(`\n  NOT CHECKED: ${file} links ${target}, which is not in this tree yet.\n`);
        else broken.push(`${file}: ${href} (no ${target})`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchors(target).has(anchor))
        broken.push(`${file}: ${href} (no heading #${anchor})`);
    }
  }
  assert.ok(checked > 50, `${checked} links`);
  assert.equal(broken, []);
});

test('README.md is at most 300 lines and keeps the quick start', () => {
  const readme = read('README.md');
  assert.ok(readme.split('\n').length <= 300, `${readme.split('\n').length} lines`);
  assert.ok(readme.includes('npm ci && npx harvgen build sites/location_x'));
  assert.match(readme, /^npm test\b/m);
});

test('the user docs carry no issue numbers and name no test files', () => {
  const found: string[] = [];
  for (const file of ['README.md', ...userPages]) {
    read(file)
      .split('\n')
      .forEach((line, i) => {
        const m = /\b(?:issues?|PR|pull request)\s*#?\d+|(?<![\w/&])#\d+\b|\btest\/[\w/.-]+\.test\.ts\b/i.exec(line);
        if (m) found.push(`${file}:${i + 1}: ${m[0]}`);
      });
  }
  assert.equal(found, []);
});

test.run();
