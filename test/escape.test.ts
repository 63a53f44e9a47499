// The second line of defence: every template writes every value through an escaper of its own
// format, and no escaper lets a value change the structure of its file.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ESCAPERS_BY_FORMAT, escapers, UnsafeValueError, dnsmasqLine, socatHost } from '../src/formats/escape.ts';
import { VALUE_KINDS, explainValue, isValueOfKind, type ValueKindName } from '../src/util/value-kinds.ts';

const repo = resolve(import.meta.dirname, '..');

/** Assert that `fn` refuses its value with UnsafeValueError (not some other failure). */
function refused(fn: () => unknown, message?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof UnsafeValueError, message);
}
const templates = join(repo, 'templates');

/** The format of each template, by its file name. */
function formatOf(name: string): string {
  if (name.endsWith('.ipxe.eta')) return 'ipxe';
  if (name.endsWith('.xml.eta')) return 'xml';
  if (name.endsWith('.sh.eta')) return 'sh';
  if (name.endsWith('.service.eta') || name.endsWith('.timer.eta')) return 'systemd';
  if (name === 'nginx.conf.eta') return 'nginx';
  if (name === 'dnsmasq.conf.eta' || name === 'dnsmasq-global.conf.eta') return 'dnsmasq';
  if (name.endsWith('.grub.cfg.eta')) return 'grub';
  if (name === 'keepalived.conf.eta') return 'keepalived';
  if (name === 'nftables.conf.eta') return 'nftables';
  throw new Error(`test/escape.test.ts does not know the format of templates/${name}: add it`);
}

/**
 * The one raw output a template may hold: another template of the same format, given the same
 * data (a part two templates share) or rendered per node and joined (`it.part`), itself checked
 * here like every template.
 */
const INCLUDE = /<%~\s*(?:include\('\.\/([\w.-]+\.eta)', it\)|it\.part\('\.\/([\w.-]+\.eta)'\))\s*-?%>/g;

test('every interpolation in every template goes through an escaper of that file format', () => {
  const names = readdirSync(templates).filter((n) => n.endsWith('.eta'));
  assert.ok(names.length >= 11, 'templates found');
  const included = new Set<string>();
  for (const name of names) {
    for (const m of readFileSync(join(templates, name), 'utf8').matchAll(INCLUDE)) {
      // An include, or a part (src/render/templates.ts, renderPart): a template rendered per node, joined.
      const other = (m[1] ?? m[2])!;
      assert.ok(names.includes(other), `templates/${name} includes ${other}, which is not a template`);
      assert.is(formatOf(other), formatOf(name), `templates/${name} includes ${other}, a template of another format`);
      included.add(other);
    }
  }
  for (const name of names) {
    const text = readFileSync(join(templates, name), 'utf8');
    assert.not.ok(/<%~/.test(text.replace(INCLUDE, '')), `templates/${name} uses raw output <%~`);
    const allowed = ESCAPERS_BY_FORMAT[formatOf(name)]!;
    let count = 0;
    for (const m of text.matchAll(/<%=([\s\S]*?)%>/g)) {
      count++;
      const expr = m[1]!.trim();
      const direct = /^it\.esc\.(\w+)\(.*\)$/.exec(expr);
      const mapped = /^[\w.]+\.map\(it\.esc\.(\w+)\)\.join\('[^']*'\)$/.exec(expr);
      const used = (direct ?? mapped)?.[1];
      assert.ok(used !== undefined, `templates/${name}: \`${expr}\` is not written through it.esc.<escaper>(...)`);
      assert.ok(allowed.includes(used as never), `templates/${name}: it.esc.${used} is not an escaper for ${formatOf(name)} files`);
      if (direct)
        assert.not.ok(/it\.(?!esc\.)\w+\(/.test(expr.slice(`it.esc.${used}(`.length)), `templates/${name}: \`${expr}\` calls a helper`);
    }
    // A shared part may hold no value of its own; a template that others do not include must.
    assert.ok(count > 0 || included.has(name), `templates/${name} interpolates nothing?`);
  }
});

// Payloads an attacker who controls one field would try, per format.
const HOSTILE = [
  'a\nb',
  'x;\n location /leak/ { alias /etc/; }',
  '/srv/x; include /etc/passwd',
  'eth0\ndhcp-script=/bin/sh',
  '$(reboot)',
  '`id`',
  "'; rm -rf / #",
  '${net0/mac}',
  'a || shell',
  '||',
  '&&',
  ';',
  '#comment',
  'x\u2028y',
  'a\\',
  'evil -- comment',
  '-->',
  'x\r\nExecStartPre=/bin/sh -c id',
  'a"b',
  "a'b",
  '%h',
];

test('ipxe: a value is one token that iPXE neither splits, expands, comments out nor ends a command at', () => {
  for (const v of HOSTILE) {
    let out: string;
    try {
      out = escapers.ipxe(v);
    } catch (e) {
      assert.instance(e, UnsafeValueError);
      continue;
    }
    assert.ok(!/[\s$]/.test(out) && !out.startsWith('#') && !['||', '&&', ';'].includes(out), `ipxe let ${JSON.stringify(v)} through`);
  }
  assert.is(escapers.ipxe('ds=nocloud;s=http://x/'), 'ds=nocloud;s=http://x/', 'a ; inside a token is inert in iPXE');
  assert.is(escapers.ipxeText('site a-b, NIC 52:54:00:aa:bb:01'), 'site a-b, NIC 52:54:00:aa:bb:01');
  refused(() => escapers.ipxeText('a || shell'));
});

test('nginx: a value is one bare or double-quoted argument; variables and newlines are refused', () => {
  for (const v of HOSTILE) {
    let out: string;
    try {
      out = escapers.nginx(v);
    } catch (e) {
      assert.instance(e, UnsafeValueError);
      continue;
    }
    if (out.startsWith('"')) {
      const inner = out.slice(1, -1);
      assert.ok(out.endsWith('"') && !/(^|[^\\])(\\\\)*"/.test(inner), `unbalanced quoting of ${JSON.stringify(v)}: ${out}`);
      assert.is(inner.replace(/\\(.)/g, '$1'), v, 'quoting round-trips');
    } else assert.ok(/^[A-Za-z0-9._~@+=,:/*[\]-]+$/.test(out), `nginx wrote ${JSON.stringify(v)} bare`);
  }
  assert.is(escapers.nginx('/srv/harvgen/x'), '/srv/harvgen/x');
  assert.is(escapers.nginx('/srv/a b'), '"/srv/a b"');
});

test('nginx addresses (allow, set_real_ip_from): a canonical IPv4 or IPv6 address or CIDR block, nothing else', () => {
  for (const v of ['10.0.0.7', '10.77.0.100/30', '0.0.0.0/0', '255.255.255.255/32', 'fe80::1', 'fd00:6::1000/116', '::/0'])
    assert.is(escapers.nginxAddress(v), v);
  for (const v of [
    ...HOSTILE,
    '10.0.0.7; allow all',
    'all',
    'unix:',
    '10.0.0.300',
    '010.0.0.7',
    '10.0.0.7/33',
    '10.0.0.5/24',
    '10.0.0.7/',
    'FE80::1',
    'fe80:0::1',
    'fe80::1%eth0',
    'fd00:6::1001/116',
    'fd00:6::/129',
    '::ffff:10.0.0.7',
    'fe80::1; allow all',
    '10.0.0.7\n',
  ])
    refused(() => escapers.nginxAddress(v), `nginxAddress let ${JSON.stringify(v)} through`);
});

test('dnsmasq: a value holds no separator, comment, quote or line break', () => {
  for (const v of [...HOSTILE, 'a,b', 'a b', 'a#b']) {
    refused(() => escapers.dnsmasq(v), `dnsmasq let ${JSON.stringify(v)} through`);
  }
  assert.is(dnsmasqLine('dhcp-boot', ['tag:!ipxe', 'tag:bios', 'undionly.kpxe']), 'dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe');
});

test('keepalived: a value is one word that keepalived neither splits, quotes, opens a block at nor comments out', () => {
  for (const ok of ['eno1', '10.0.0.5/24', 'harvgen-site_a-boot.a', 'http://10.0.0.2:8080/x/boot.ipxe'])
    assert.is(escapers.keepalived(ok), ok);
  for (const bad of ['a b', 'a"b', 'a{', '}', 'a#b', 'a!b', 'a\nb', 'a\tb', "a'b", 'a;b', '$x', ''])
    refused(() => escapers.keepalived(bad), JSON.stringify(bad));
});

test('systemd: text keeps % as %% and refuses line breaks and backslashes; arguments are plain words', () => {
  assert.is(escapers.systemd('100% of %h'), '100%% of %%h');
  for (const v of ['a\nb', 'x\r\nExecStartPre=/bin/sh', 'a\\']) refused(() => escapers.systemd(v));
  for (const v of HOSTILE) refused(() => escapers.systemdArg(v), `systemdArg let ${JSON.stringify(v)} through`);
  assert.is(escapers.systemdArg('TCP-LISTEN:443,bind=10.0.0.1,fork,reuseaddr'), 'TCP-LISTEN:443,bind=10.0.0.1,fork,reuseaddr');
  refused(() => socatHost('1.2.3.4,fork'));
});

test('sh: a word is bare only when plain, else single-quoted so that nothing expands', () => {
  for (const v of HOSTILE.filter((h) => !/[\u0000-\u001f\u2028]/.test(h))) {
    if (v.startsWith('-')) {
      refused(() => escapers.sh(v), `a leading - must be refused: ${v}`);
      continue;
    }
    const out = escapers.sh(v);
    if (out.startsWith("'")) assert.is(out.slice(1, -1).replace(/'\\''/g, "'"), v);
    else assert.ok(/^[A-Za-z0-9_./:=@%+,-]+$/.test(out), `sh wrote ${JSON.stringify(v)} bare`);
  }
  refused(() => escapers.sh('a\nb'));
});

test('xml: text and attributes escape markup; comment text never holds -- or ends with -', () => {
  assert.is(escapers.xml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  for (const v of ['evil -- comment', '-->', 'a---b', 'ends-', '--']) {
    const out = escapers.xmlComment(v);
    assert.not.ok(out.includes('--') || out.endsWith('-'), `${JSON.stringify(v)} -> ${out}`);
  }
  refused(() => escapers.xml('a\u0000b'));
});

test('comment: one line only', () => {
  refused(() => escapers.comment('a\nserver { }'));
  assert.is(escapers.comment('site x; anything'), 'site x; anything');
});

test('int: whole numbers only', () => {
  assert.is(escapers.int(443), '443');
  refused(() => escapers.int(1.5));
  refused(() => escapers.int(Number.NaN));
});

// Value kinds: the example of each kind is accepted; hostile payloads are refused with the
// first offending character named.
test('every value kind accepts its example and refuses every hostile payload', () => {
  for (const [kind, k] of Object.entries(VALUE_KINDS) as [ValueKindName, (typeof VALUE_KINDS)[ValueKindName]][]) {
    assert.ok(isValueOfKind(kind, k.example), `${kind} refuses its own example ${k.example}`);
    for (const v of HOSTILE) assert.not.ok(isValueOfKind(kind, v), `${kind} accepts ${JSON.stringify(v)}`);
  }
});

test('value kinds: the edge cases', () => {
  const yes: [ValueKindName, string][] = [
    ['listen', '*:65535'],
    ['listen', '8080'],
    ['listen', '10.0.0.1:1'],
    ['ifname', 'a'],
    ['ifname', 'enp0s31f6.100'],
    ['ifname', 'x'.repeat(15)],
    ['ifnameGlob', 'eth*'],
    ['dnsName', 'lab'],
    ['dnsName', 'a-1.example.com'],
    ['serverUrl', 'http://boot.example.com:8080/'],
    ['serverUrl', 'http://10.0.0.5/sites/location_x/'],
    ['artifactsUrl', 'https://10.0.0.1:8443/a/b_c~d/v1.4.1'],
    ['kernelArg', 'console=ttyS0,115200n8'],
    ['kernelArg', 'ds=nocloud;s=http://10.0.0.1/x/'],
    ['path', '/'],
  ];
  const no: [ValueKindName, string][] = [
    ['listen', 'http://1.2.3.4'],
    ['listen', '10.0.0.0/24:80'],
    ['listen', 'boot.example.com:80'],
    ['listen', '1.2.3.4:65536'],
    ['listen', '1.2.3.4:0'],
    ['ifname', 'x'.repeat(16)],
    ['ifname', 'eth0:1'],
    ['ifname', 'a/b'],
    ['ifname', '.'],
    ['ifname', '-eth0'],
    ['dnsName', 'a..b'],
    ['dnsName', '-a.com'],
    ['dnsName', '1.2.3.300'],
    ['dnsName', 'example.com.'],
    ['serverUrl', 'http://user:pw@10.0.0.1'],
    ['serverUrl', 'http://10.0.0.1/pa th'],
    ['serverUrl', 'http://10.0.0.1/a%20b'],
    ['serverUrl', 'https://10.0.0.1'],
    ['serverUrl', 'http://10.0.0.1:99999'],
    ['serverUrl', 'http://300.1.1.1'],
    ['artifactsUrl', 'http://10.0.0.1/a#frag'],
    ['artifactsUrl', 'http://10.0.0.1/a?x=1'],
    ['artifactsUrl', 'http://10.0.0.1/a%20b'],
    ['artifactsUrl', 'http://10.0.0.1/a{b}'],
    ['artifactsUrl', 'ftp://10.0.0.1/a'],
    ['kernelArg', '-x'],
    ['kernelArg', 'a"b c"'],
    ['path', 'relative/path'],
    ['path', '/a,b'],
  ];
  for (const [kind, v] of yes) assert.ok(isValueOfKind(kind, v), `${kind} should accept ${v}`);
  for (const [kind, v] of no) assert.not.ok(isValueOfKind(kind, v), `${kind} should refuse ${v}`);
});

test('explainValue names the first offending character, the length, or the form', () => {
  assert.is(explainValue('path', '/srv/x;y'), 'contains ";" at character 7');
  assert.is(explainValue('path', '/srv/x\ny'), 'contains a newline at character 7');
  assert.is(explainValue('ifname', 'x'.repeat(20)), 'is 20 characters long (at most 15)');
  assert.is(explainValue('listen', '1.2.3.4:99999'), 'does not have the required form');
  assert.is(explainValue('kernelArg', ''), 'is empty');
});

test.run();
