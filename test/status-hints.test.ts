// Every problem `status` lists names its real cause: an OS profile's kernel on the boot server is
// not a release file (fetch.sh has nothing to do with it), a refused release file is not the
// access rules' doing, an unreadable log says why.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status } from '../src/status/index.ts';
import { ART, byHost, line, site } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

/** A site of one OS node whose profile's kernel is on the boot server and whose initrd is on a mirror. */
function osSite(): string {
  const dir = join(tempDir('status-hints'), 'os');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'site.yaml'),
    `site: os
boot:
  server: http://10.0.0.1
network:
  cidr: 10.0.0.0/24
  gateway: 10.0.0.1
  dns: [10.0.0.1]
  dhcp_range: 10.0.0.100-10.0.0.199
os_profiles:
  rocky:
    kernel: http://10.0.0.1/os/vmlinuz
    initrds: [http://10.0.0.2/os/initrd.img]
nodes:
  - hostname: n1
    mac: 52:54:00:00:00:01
    ip: 10.0.0.21
    os: rocky
`,
  );
  return dir;
}

test("an OS profile's file missing on the boot server is the generated nginx not serving it, not fetch.sh", async () => {
  const dir = osSite();
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    [
      line('10.0.0.21', 1, '/ipxe/52-54-00-00-00-01.ipxe', 200),
      line('10.0.0.21', 2, '/os/vmlinuz', 404),
      line('10.0.0.21', 2, '/os/initrd.img', 404),
    ].join('\n') + '\n',
  );
  const r = await status({ sites: [dir], logs: [log] });
  const p = byHost(r.nodes).n1!.problems;
  assert.is(p.length, 2, p.join('\n'));
  assert.ok(
    p.every((x) => !x.includes('fetch.sh')),
    p.join('\n'),
  );
  assert.match(
    p[0]!,
    /kernel not found \(404\).*http:\/\/10\.0\.0\.1\/os\/vmlinuz of OS profile rocky is on the boot server.*OS_PROFILE_FILE_NOT_SERVED/,
  );
  assert.match(
    p[1]!,
    /initrd not found \(404\).*is http:\/\/10\.0\.0\.2\/os\/initrd\.img, named by OS profile rocky, on the server that serves it\?/,
  );
});

test('a release file missing is fetch.sh; a release file refused is file permissions; a config refused is the access rules', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    [
      line('10.0.0.15', 1, '/ipxe/52-54-00-00-00-05.ipxe', 200),
      line('10.0.0.15', 2, `${ART}-vmlinuz-amd64`, 404),
      line('10.0.0.15', 2, `${ART}-initrd-amd64`, 403),
      line('10.0.0.150', 3, '/harvester/done.yaml', 403),
    ].join('\n') + '\n',
  );
  const p = byHost((await status({ sites: [dir], logs: [log] })).nodes).done!.problems;
  assert.match(
    p.find((x) => x.startsWith('kernel'))!,
    /release files of v1\.5\.1 in \S+ on the boot server \(artifacts\/fetch\.sh/,
  );
  assert.match(
    p.find((x) => x.startsWith('initrd'))!,
    /nginx may not read the file/,
  );
  assert.match(
    p.find((x) => x.startsWith('config'))!,
    /access rules \(nginx\.access: nodes\) allow only the node's addresses \(10\.0\.0\.15\)/,
  );
});

test('an unreadable log says why: missing, or a directory', async () => {
  const dir = site();
  const r = await status({ sites: [dir], logs: [join(dir, 'nope.log'), dir] });
  const hints = r.diagnostics.filter((d) => d.code === 'STATUS_LOG_UNREADABLE').map((d) => d.hint ?? '');
  assert.match(hints[0]!, /^No such file/);
  assert.match(hints[1]!, /^A directory/);
});

test('a download retried twenty times is one problem with its count and last time, not twenty lines', async () => {
  const dir = osSite();
  const log = join(dir, '..', 'access.log');
  const lines = [line('10.0.0.21', 1, '/ipxe/52-54-00-00-00-01.ipxe', 200), line('10.0.0.21', 2, '/os/vmlinuz', 404)];
  for (let i = 0; i < 20; i++) lines.push(line('10.0.0.21', 3 + i, '/os/initrd.img', 404));
  writeFileSync(log, lines.join('\n') + '\n');
  const r = await status({ sites: [dir], logs: [log] });
  const p = byHost(r.nodes).n1!.problems;
  assert.is(p.length, 2, p.join('\n'));
  assert.match(p[0]!, /^kernel not found \(404\)/);
  assert.not.match(p[0]!, /more time/);
  assert.match(p[1]!, /^initrd not found \(404\) (\S+) from 10\.0\.0\.21: .* \(and 19 more times in a row, the last at (\S+)\)$/);
  const [, first, last] = /^initrd not found \(404\) (\S+) .*the last at (\S+)\)$/.exec(p[1]!)!;
  assert.ok(first! < last!, `${first} before ${last}`);
  assert.is(byHost(r.nodes).n1!.fetches.initrd?.count, 20);
});

test.run();
