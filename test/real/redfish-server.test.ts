// The Redfish test server (helpers/redfish-server.ts) keeps its word: a few real HTTP(S) requests
// per behaviour and per quirk, each checked against what the server's comments promise, so the
// BMC script tests that rely on it test the scripts and not a fixture that drifted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { requireProgram } from './helpers/programs.ts';
import {
  certificate,
  startRedfishServer,
  type RedfishQuirks,
  type RedfishServer,
  type RedfishServerOptions,
} from './helpers/redfish-server.ts';

const USER = 'admin';
const PASSWORD = 'pw:"x';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON (read loosely in assertions), undefined without a body. */
  body: any;
}

/** One request; `auth: false` sends no Authorization header. */
function call(
  rf: RedfishServer,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; auth?: boolean; ca?: string } = {},
): Promise<Answer> {
  const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...(opts.auth === false ? {} : { Authorization: AUTH }), ...opts.headers };
  if (data !== undefined) headers['Content-Type'] = 'application/json';
  const url = new URL(path, rf.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, ...(opts.ca ? { ca: opts.ca } : {}), agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** A server on plain http with these quirks, closed after fn. */
async function withServer(quirks: RedfishQuirks, fn: (rf: RedfishServer) => Promise<void>, extra: Partial<RedfishServerOptions> = {}) {
  const rf = await startRedfishServer({ user: USER, password: PASSWORD, quirks, ...extra });
  try {
    await fn(rf);
  } finally {
    await rf.close();
  }
}

const S1 = '/redfish/v1/Systems/sys-1';
const CD = '/redfish/v1/Managers/bmc-1/VirtualMedia/Cd1';
const pxe = { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' } };
const messageIds = (a: Answer): string[] => (a.body?.error?.['@Message.ExtendedInfo'] ?? []).map((m: { MessageId: string }) => m.MessageId);
const messages = (a: Answer): string =>
  (a.body?.error?.['@Message.ExtendedInfo'] ?? []).map((m: { Message: string }) => m.Message).join(' | ');

test('no quirks, over https: the inline server of bmc.test.ts, conformant basics', async () => {
  if (!requireProgram('openssl')) return;
  const tls = await certificate();
  const rf = await startRedfishServer({ tls, user: USER, password: PASSWORD });
  try {
    assert.match(rf.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = tls.cert;
    // The service root is open; everything else needs Basic auth.
    let a = await call(rf, 'GET', '/redfish/v1/', { auth: false, ca });
    assert.is(a.status, 200);
    assert.equal([a.body['@odata.id'], a.body.Systems, a.body.Managers], [
      '/redfish/v1/',
      { '@odata.id': '/redfish/v1/Systems' },
      { '@odata.id': '/redfish/v1/Managers' },
    ]); // prettier-ignore
    a = await call(rf, 'GET', '/redfish/v1/Systems', { auth: false, ca });
    assert.is(a.status, 401);
    assert.is(a.body.error['@Message.ExtendedInfo'][0].Message, 'The credentials were not accepted.');
    assert.ok(typeof a.body.error.code === 'string' && typeof a.body.error.message === 'string');
    a = await call(rf, 'GET', '/redfish/v1/Systems', {
      ca,
      headers: { Authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
    });
    assert.is(a.status, 401);
    a = await call(rf, 'GET', '/redfish/v1/Systems', { ca });
    assert.equal(a.body.Members, [{ '@odata.id': S1 }, { '@odata.id': '/redfish/v1/Systems/sys-2' }]);
    assert.is(a.body['Members@odata.count'], 2);
    assert.is(a.body['@odata.id'], '/redfish/v1/Systems');
    a = await call(rf, 'GET', '/redfish/v1/Managers', { ca });
    assert.equal(a.body.Members, [{ '@odata.id': '/redfish/v1/Managers/bmc-1' }]);

    a = await call(rf, 'GET', S1, { ca });
    assert.is(a.status, 200);
    assert.is(a.body['@odata.id'], S1);
    assert.is(a.body.PowerState, 'On');
    assert.equal(a.body.Boot, { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' });
    assert.equal(a.body.Actions['#ComputerSystem.Reset'], {
      target: `${S1}/Actions/ComputerSystem.Reset`,
      'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulRestart', 'ForceRestart', 'PowerCycle'],
    });
    assert.equal(a.body.Links.ManagedBy, [{ '@odata.id': '/redfish/v1/Managers/bmc-1' }]);
    assert.is(a.body.VirtualMedia, undefined, 'virtual media lives under the manager by default');
    assert.is(a.headers.etag, undefined, 'no ETag published by default');
    assert.is(a.body['@odata.etag'], undefined);
    a = await call(rf, 'GET', '/redfish/v1/Systems/sys-2', { ca });
    assert.is(a.body.PowerState, 'Off');
    assert.equal(a.body.Boot['BootSourceOverrideTarget@Redfish.AllowableValues'], ['None', 'Pxe', 'Hdd', 'Cd']);
    assert.equal(a.body.Actions['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues'], ['On', 'PowerCycle']);

    a = await call(rf, 'GET', '/redfish/v1/Managers/bmc-1', { ca });
    assert.equal(a.body.VirtualMedia, { '@odata.id': '/redfish/v1/Managers/bmc-1/VirtualMedia' });
    a = await call(rf, 'GET', '/redfish/v1/Managers/bmc-1/VirtualMedia', { ca });
    assert.equal(
      a.body.Members.map((m: { '@odata.id': string }) => m['@odata.id']),
      ['/redfish/v1/Managers/bmc-1/VirtualMedia/Floppy1', CD],
    );
    a = await call(rf, 'GET', '/redfish/v1/Managers/bmc-1/VirtualMedia/Floppy1', { ca });
    assert.equal([a.body.MediaTypes, a.body.Image, a.body.Inserted], [['Floppy', 'USBStick'], null, false]);
    a = await call(rf, 'GET', CD, { ca });
    assert.equal(
      [a.body.MediaTypes, a.body.Image, a.body.Inserted, typeof a.body.WriteProtected],
      [['CD', 'DVD'], 'http://old/old.iso', true, 'boolean'],
    );
    assert.is(a.body.Actions['#VirtualMedia.InsertMedia'].target, `${CD}/Actions/VirtualMedia.InsertMedia`);
    assert.is(a.body.Actions['#VirtualMedia.EjectMedia'].target, `${CD}/Actions/VirtualMedia.EjectMedia`);

    // 404 and 405, both with Redfish error bodies.
    a = await call(rf, 'GET', '/redfish/v1/Systems/nope', { ca });
    assert.is(a.status, 404);
    assert.equal(messageIds(a), ['Base.1.8.ResourceMissingAtURI']);
    a = await call(rf, 'PATCH', '/redfish/v1/Systems', { ca, body: {} });
    assert.is(a.status, 405);
    assert.is(a.headers.allow, 'GET');
    a = await call(rf, 'GET', `${S1}/Actions/ComputerSystem.Reset`, { ca });
    assert.is(a.status, 405);

    // PATCH: unknown and read-only properties are named; a Boot PATCH applies; requests are recorded.
    a = await call(rf, 'PATCH', S1, { ca, body: { PowerState: 'Off', Foo: 1, Boot: { Bar: 2, BootSourceOverrideTarget: 'Floppy2' } } });
    assert.is(a.status, 400);
    for (const name of ['PowerState', 'Foo', 'Boot/Bar', 'Boot/BootSourceOverrideTarget'])
      assert.ok(messages(a).includes(name), `${name}: ${messages(a)}`);
    assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'None', 'a refused PATCH changes nothing');
    a = await call(rf, 'PATCH', S1, { ca, body: pxe, headers: { 'X-Test': 'yes' } });
    assert.is(a.status, 204);
    assert.equal(rf.systems['sys-1']!.Boot, pxe.Boot);
    const last = rf.requests.at(-1)!;
    assert.equal([last.method, last.path, last.body, last.auth, last.headers['x-test']], ['PATCH', S1, pxe, AUTH, 'yes']);
    assert.is(last.raw, JSON.stringify(pxe));
    assert.is(rf.counters.modeRewrites, 0);
    a = await call(rf, 'PATCH', S1, { ca, body: pxe });
    assert.is(rf.counters.modeRewrites, 1, 'Mode re-sent with the value it had');
    assert.is(rf.counters.patches, 4, 'every authenticated PATCH, the 405 one included');

    // Once → Disabled only on a Reset, which boots with the override.
    a = await call(rf, 'GET', S1, { ca });
    assert.is(a.body.Boot.BootSourceOverrideEnabled, 'Once');
    a = await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, { ca, body: { ResetType: 'GracefulShutdown' } });
    assert.is(a.status, 400, 'not an allowed reset type');
    a = await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, { ca, body: { ResetType: 'ForceRestart' } });
    assert.is(a.status, 204);
    a = await call(rf, 'GET', S1, { ca });
    assert.equal(
      [a.body.PowerState, a.body.Boot.BootSourceOverrideEnabled, a.body.Boot.BootSourceOverrideTarget],
      ['On', 'Disabled', 'Pxe'],
    );
    assert.equal(rf.systems['sys-1']!.boots, [{ ResetType: 'ForceRestart', Target: 'Pxe', Mode: 'UEFI' }]);
    await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, { ca, body: { ResetType: 'ForceOff' } });
    assert.is(rf.systems['sys-1']!.PowerState, 'Off');

    // Virtual media: insert while inserted → 409; eject clears; insert loads.
    const insert = `${CD}/Actions/VirtualMedia.InsertMedia`;
    a = await call(rf, 'POST', insert, { ca, body: { Image: 'http://new/new.iso' } });
    assert.is(a.status, 409);
    a = await call(rf, 'POST', `${CD}/Actions/VirtualMedia.EjectMedia`, { ca, body: {} });
    assert.is(a.status, 204);
    assert.equal([rf.media.Cd1!.Image, rf.media.Cd1!.Inserted], [null, false]);
    a = await call(rf, 'POST', insert, { ca, body: {} });
    assert.is(a.status, 400, 'Image is required');
    a = await call(rf, 'POST', insert, { ca, body: { Image: 'http://new/new.iso' } });
    assert.is(a.status, 204);
    a = await call(rf, 'GET', CD, { ca });
    assert.equal([a.body.Image, a.body.Inserted], ['http://new/new.iso', true]);
    a = await call(rf, 'PATCH', CD, { ca, body: { Image: null } });
    assert.is(a.status, 405, 'no PATCH of media that has actions');
  } finally {
    await rf.close();
  }
});

test('ETags: header, body, both, weak; regenerated on every change; If-Match honoured, 428 and 412 when required', async () => {
  for (const etag of ['header', 'body', 'both'] as const)
    await withServer({ etag, requireIfMatch: true, etagWeak: etag === 'header' }, async (rf) => {
      let a = await call(rf, 'GET', S1);
      const tag: string = etag === 'body' ? a.body['@odata.etag'] : (a.headers.etag as string);
      assert.ok(typeof tag === 'string', `${etag}: a tag`);
      if (etag === 'header') assert.match(tag, /^W\/"\d+"$/);
      else assert.match(tag, /^"\d+"$/);
      assert.is(a.headers.etag !== undefined, etag !== 'body', `${etag}: header`);
      assert.is(a.body['@odata.etag'] !== undefined, etag !== 'header', `${etag}: body`);
      assert.is((await call(rf, 'GET', S1)).body['@odata.etag'] ?? (await call(rf, 'GET', S1)).headers.etag, tag, 'stable while unchanged');
      a = await call(rf, 'PATCH', S1, { body: pxe });
      assert.is(a.status, 428);
      a = await call(rf, 'PATCH', S1, { body: pxe, headers: { 'If-Match': '"999"' } });
      assert.is(a.status, 412);
      assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'None');
      a = await call(rf, 'PATCH', S1, { body: pxe, headers: { 'If-Match': tag } });
      assert.is(a.status, 204);
      assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'Pxe');
      a = await call(rf, 'GET', S1);
      const after = etag === 'body' ? a.body['@odata.etag'] : a.headers.etag;
      assert.is.not(after, tag, 'a change makes a new ETag');
      a = await call(rf, 'PATCH', S1, { body: { Boot: { BootSourceOverrideTarget: 'Hdd' } }, headers: { 'If-Match': tag } });
      assert.is(a.status, 412, 'the old tag is stale now');
      // A change made behind the server's back (a test editing the state) changes the tag too.
      rf.systems['sys-1']!.PowerState = 'Off';
      a = await call(rf, 'PATCH', S1, { body: { Boot: { BootSourceOverrideTarget: 'Hdd' } }, headers: { 'If-Match': after } });
      assert.is(a.status, 412);
    });
  // The strong form of a weak tag is accepted (sushy's retry); without requireIfMatch no If-Match is fine.
  await withServer({ etag: 'header', etagWeak: true }, async (rf) => {
    const tag = (await call(rf, 'GET', S1)).headers.etag as string;
    assert.is((await call(rf, 'PATCH', S1, { body: pxe, headers: { 'If-Match': tag.slice(2) } })).status, 204);
    assert.is((await call(rf, 'PATCH', S1, { body: { Boot: { BootSourceOverrideTarget: 'Hdd' } } })).status, 204);
  });
});

test('staleEtagOnce: the first PATCH gets 412 with the right tag and the tag changes; the fresh tag works', async () => {
  await withServer({ etag: 'header', staleEtagOnce: true }, async (rf) => {
    const tag = (await call(rf, 'GET', S1)).headers.etag as string;
    let a = await call(rf, 'PATCH', S1, { body: pxe, headers: { 'If-Match': tag } });
    assert.is(a.status, 412);
    assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'None');
    const fresh = (await call(rf, 'GET', S1)).headers.etag as string;
    assert.is.not(fresh, tag);
    a = await call(rf, 'PATCH', S1, { body: pxe, headers: { 'If-Match': fresh } });
    assert.is(a.status, 204);
    assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'Pxe');
  });
});

test('revert and forgetModeUnlessSent: Boot fields read something else after a 2xx PATCH', async () => {
  await withServer(
    {
      revert: [
        { field: 'BootSourceOverrideMode', to: 'Legacy', times: 1 },
        { field: 'BootSourceOverrideEnabled', to: 'Disabled', times: 2 },
      ],
    },
    async (rf) => {
      assert.is((await call(rf, 'PATCH', S1, { body: pxe })).status, 204);
      let b = (await call(rf, 'GET', S1)).body.Boot;
      assert.equal([b.BootSourceOverrideTarget, b.BootSourceOverrideEnabled, b.BootSourceOverrideMode], ['Pxe', 'Disabled', 'Legacy']);
      await call(rf, 'PATCH', S1, { body: pxe });
      b = (await call(rf, 'GET', S1)).body.Boot;
      assert.equal([b.BootSourceOverrideEnabled, b.BootSourceOverrideMode], ['Disabled', 'UEFI'], 'Mode reverted once only');
      await call(rf, 'PATCH', S1, { body: pxe });
      b = (await call(rf, 'GET', S1)).body.Boot;
      assert.equal([b.BootSourceOverrideEnabled, b.BootSourceOverrideMode], ['Once', 'UEFI'], 'third write sticks');
    },
  );
  await withServer({ forgetModeUnlessSent: true }, async (rf) => {
    await call(rf, 'PATCH', S1, { body: pxe });
    assert.is((await call(rf, 'GET', S1)).body.Boot.BootSourceOverrideMode, 'UEFI');
    await call(rf, 'PATCH', S1, { body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } } });
    const b = (await call(rf, 'GET', S1)).body.Boot;
    assert.equal([b.BootSourceOverrideTarget, b.BootSourceOverrideMode], ['Cd', 'Legacy']);
  });
});

test('enabledReadsContinuous: Enabled reads Continuous whatever was written', async () => {
  await withServer({ enabledReadsContinuous: true }, async (rf) => {
    await call(rf, 'PATCH', S1, { body: pxe });
    assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideEnabled, 'Once');
    assert.is((await call(rf, 'GET', S1)).body.Boot.BootSourceOverrideEnabled, 'Continuous');
  });
});

test('bootSettings annotated: Boot PATCHes go to the settings object, pending until the next Reset', async () => {
  await withServer(
    { bootSettings: 'annotated', settingsApplyTimes: ['OnReset', 'Immediate'], etag: 'header', requireIfMatch: true },
    async (rf) => {
      let a = await call(rf, 'GET', S1);
      assert.equal(a.body['@Redfish.Settings'].SettingsObject, { '@odata.id': `${S1}/Settings` });
      assert.equal(a.body['@Redfish.Settings'].SupportedApplyTimes, ['OnReset', 'Immediate']);
      a = await call(rf, 'PATCH', S1, { body: pxe, headers: { 'If-Match': a.headers.etag as string } });
      assert.is(a.status, 400);
      assert.match(messages(a), /Settings/);
      a = await call(rf, 'GET', `${S1}/Settings`);
      assert.is(a.status, 200);
      assert.is(a.body['@odata.id'], `${S1}/Settings`);
      assert.equal(a.body.Boot, { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' });
      const tag = a.headers.etag as string;
      assert.is((await call(rf, 'PATCH', `${S1}/Settings`, { body: pxe })).status, 428, 'its own ETag is required');
      const applyTime = { ApplyTime: 'Immediate' };
      a = await call(rf, 'PATCH', `${S1}/Settings`, {
        body: { ...pxe, '@Redfish.SettingsApplyTime': { ApplyTime: 'AtMaintenanceWindowStart' } },
        headers: { 'If-Match': tag },
      });
      assert.is(a.status, 400, 'an apply time not offered');
      a = await call(rf, 'PATCH', `${S1}/Settings`, {
        body: { ...pxe, '@Redfish.SettingsApplyTime': applyTime },
        headers: { 'If-Match': tag },
      });
      assert.is(a.status, 204);
      assert.equal(rf.settings['sys-1']!.applyTime, applyTime);
      a = await call(rf, 'GET', `${S1}/Settings`);
      assert.equal(a.body.Boot, pxe.Boot);
      assert.equal(a.body['@Redfish.SettingsApplyTime'], applyTime);
      assert.is((await call(rf, 'GET', S1)).body.Boot.BootSourceOverrideTarget, 'None', 'pending, not active');
      await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'ForceRestart' } });
      a = await call(rf, 'GET', S1);
      assert.equal([a.body.Boot.BootSourceOverrideTarget, a.body.Boot.BootSourceOverrideMode], ['Pxe', 'UEFI'], 'moved on the reset');
      assert.equal(rf.systems['sys-1']!.boots, [{ ResetType: 'ForceRestart', Target: 'Pxe', Mode: 'UEFI' }]);
      assert.equal(rf.settings['sys-1']!.pending, {});
    },
  );
});

test('bootSettings ami-sd: the system refuses Boot naming <sys>/SD, which holds it pending (ETag required there)', async () => {
  await withServer({ systemIds: ['Self'], bootSettings: 'ami-sd', etag: 'header', requireIfMatch: true }, async (rf) => {
    const sys = '/redfish/v1/Systems/Self';
    let a = await call(rf, 'GET', sys);
    assert.is(a.body['@Redfish.Settings'], undefined);
    a = await call(rf, 'PATCH', sys, { body: pxe, headers: { 'If-Match': a.headers.etag as string } });
    assert.is(a.status, 400);
    assert.equal(messageIds(a), ['Ami.1.0.OperationSupportedInFutureStateURI']);
    assert.is(messages(a), 'Support of this Operation for Boot Properties is moved to FutureState URI(/redfish/v1/Systems/Self/SD)');
    assert.is((await call(rf, 'PATCH', `${sys}/SD`, { body: pxe })).status, 428);
    a = await call(rf, 'GET', `${sys}/SD`);
    a = await call(rf, 'PATCH', `${sys}/SD`, { body: pxe, headers: { 'If-Match': a.headers.etag as string } });
    assert.is(a.status, 204);
    assert.equal((await call(rf, 'GET', `${sys}/SD`)).body.Boot, pxe.Boot);
    assert.is(rf.systems.Self!.Boot.BootSourceOverrideTarget, 'None');
    await call(rf, 'POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'PowerCycle' } });
    assert.is(rf.systems.Self!.Boot.BootSourceOverrideTarget, 'Pxe');
  });
});

test('taskMonitor: 202 + Location, 202 for n polls, then the change and the final answer; exception applies nothing', async () => {
  for (const final of [204, 200] as const)
    await withServer({ taskMonitor: { on: ['reset'], polls: 2, retryAfter: 1, final } }, async (rf) => {
      const sys2 = '/redfish/v1/Systems/sys-2';
      let a = await call(rf, 'POST', `${sys2}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'On' } });
      assert.is(a.status, 202);
      assert.is(a.headers.location, '/redfish/v1/TaskService/TaskMonitors/1');
      assert.is(a.headers['retry-after'], '1');
      for (let i = 0; i < 2; i++) {
        assert.is(rf.systems['sys-2']!.PowerState, 'Off', `not applied before the monitor is done (poll ${i})`);
        a = await call(rf, 'GET', '/redfish/v1/TaskService/TaskMonitors/1');
        assert.is(a.status, 202);
      }
      assert.is(rf.systems['sys-2']!.PowerState, 'Off');
      a = await call(rf, 'GET', '/redfish/v1/TaskService/TaskMonitors/1');
      assert.is(a.status, final);
      if (final === 200) assert.is(a.body.TaskState, 'Completed');
      else assert.is(a.body, undefined);
      assert.is(rf.systems['sys-2']!.PowerState, 'On');
      assert.is(rf.tasks['1']!.applied, true);
      assert.is((await call(rf, 'GET', '/redfish/v1/TaskService/TaskMonitors/1')).status, final, 'stays done');
      // A PATCH is not a task unless listed.
      assert.is((await call(rf, 'PATCH', S1, { body: pxe })).status, 204);
    });
  await withServer({ taskMonitor: { on: ['insert', 'patch'], polls: 1, final: 'exception' } }, async (rf) => {
    let a = await call(rf, 'PATCH', S1, { body: pxe });
    assert.is(a.status, 202);
    assert.is(a.headers['retry-after'], undefined);
    assert.is((await call(rf, 'GET', a.headers.location!)).status, 202);
    a = await call(rf, 'GET', a.headers.location!);
    assert.is(a.status, 200);
    assert.is(a.body.TaskState, 'Exception');
    assert.match(a.body.Messages[0].Message, /failed/);
    assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'None', 'an exception applies nothing');
    await call(rf, 'POST', `${CD}/Actions/VirtualMedia.EjectMedia`, { body: {} });
    a = await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://x/y.iso' } });
    assert.is(a.status, 202);
    assert.is(a.headers.location, '/redfish/v1/TaskService/TaskMonitors/2');
  });
});

test('conflictOnce: the first request of each listed kind gets 409, the next one passes', async () => {
  await withServer({ conflictOnce: ['insert', 'reset'] }, async (rf) => {
    await call(rf, 'POST', `${CD}/Actions/VirtualMedia.EjectMedia`, { body: {} });
    const insert = { body: { Image: 'http://x/y.iso' } };
    assert.is((await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, insert)).status, 409);
    assert.is(rf.media.Cd1!.Image, null);
    assert.is((await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, insert)).status, 204);
    assert.is((await call(rf, 'PATCH', S1, { body: pxe })).status, 204, 'patch not listed');
    const reset = { body: { ResetType: 'ForceRestart' } };
    assert.is((await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, reset)).status, 409);
    assert.is(rf.systems['sys-1']!.boots.length, 0);
    assert.is((await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, reset)).status, 204);
    assert.is(rf.systems['sys-1']!.boots.length, 1);
  });
});

test('vmedia placement: system, system-link-to-manager, none', async () => {
  await withServer({ vmedia: 'system' }, async (rf) => {
    let a = await call(rf, 'GET', S1);
    assert.equal(a.body.VirtualMedia, { '@odata.id': `${S1}/VirtualMedia` });
    assert.is((await call(rf, 'GET', '/redfish/v1/Systems/sys-2')).body.VirtualMedia, undefined);
    assert.is((await call(rf, 'GET', '/redfish/v1/Managers/bmc-1')).body.VirtualMedia, undefined);
    assert.is((await call(rf, 'GET', '/redfish/v1/Managers/bmc-1/VirtualMedia')).status, 404);
    a = await call(rf, 'GET', `${S1}/VirtualMedia`);
    assert.equal(a.body.Members[1], { '@odata.id': `${S1}/VirtualMedia/Cd1` });
    assert.is(rf.mediaPath('Cd1'), `${S1}/VirtualMedia/Cd1`);
    a = await call(rf, 'POST', `${S1}/VirtualMedia/Cd1/Actions/VirtualMedia.EjectMedia`, { body: {} });
    assert.is(a.status, 204);
    assert.is(rf.media.Cd1!.Inserted, false);
  });
  await withServer({ vmedia: 'system-link-to-manager' }, async (rf) => {
    const want = { '@odata.id': '/redfish/v1/Managers/bmc-1/VirtualMedia' };
    assert.equal((await call(rf, 'GET', S1)).body.VirtualMedia, want);
    assert.equal((await call(rf, 'GET', '/redfish/v1/Managers/bmc-1')).body.VirtualMedia, want);
  });
  await withServer({ vmedia: 'none' }, async (rf) => {
    assert.is((await call(rf, 'GET', S1)).body.VirtualMedia, undefined);
    assert.is((await call(rf, 'GET', '/redfish/v1/Managers/bmc-1')).body.VirtualMedia, undefined);
    assert.is((await call(rf, 'GET', CD)).status, 404);
  });
});

test('vmediaPatchOnly: no actions; eject and insert by PATCH with If-Match honoured', async () => {
  await withServer({ vmediaPatchOnly: true, etag: 'body', requireIfMatch: true }, async (rf) => {
    let a = await call(rf, 'GET', CD);
    assert.is(a.body.Actions, undefined);
    assert.is((await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://x/y.iso' } })).status, 404);
    assert.is((await call(rf, 'POST', `${CD}/Actions/VirtualMedia.EjectMedia`, { body: {} })).status, 404);
    assert.is((await call(rf, 'PATCH', CD, { body: { Image: null, Inserted: false } })).status, 428);
    a = await call(rf, 'PATCH', CD, { body: { Image: null, Inserted: false }, headers: { 'If-Match': a.body['@odata.etag'] } });
    assert.is(a.status, 204);
    assert.equal([rf.media.Cd1!.Image, rf.media.Cd1!.Inserted], [null, false]);
    a = await call(rf, 'GET', CD);
    const tag = a.body['@odata.etag'];
    assert.is((await call(rf, 'PATCH', CD, { body: { MediaTypes: ['CD'] }, headers: { 'If-Match': tag } })).status, 400);
    a = await call(rf, 'PATCH', CD, {
      body: { Image: 'http://x/y.iso', Inserted: true, WriteProtected: true },
      headers: { 'If-Match': tag },
    });
    assert.is(a.status, 204);
    assert.equal([rf.media.Cd1!.Image, rf.media.Cd1!.Inserted], ['http://x/y.iso', true]);
  });
});

test('insertRejectsFlags and requireTransferProtocol: InsertMedia bodies refused with the parameter named', async () => {
  await withServer({ insertRejectsFlags: true }, async (rf) => {
    await call(rf, 'POST', `${CD}/Actions/VirtualMedia.EjectMedia`, { body: {} });
    let a = await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://x/y.iso', Inserted: true } });
    assert.is(a.status, 400);
    assert.match(messages(a), /Inserted/);
    a = await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://x/y.iso', WriteProtected: true } });
    assert.is(a.status, 400);
    assert.is((await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://x/y.iso' } })).status, 204);
  });
  await withServer({ requireTransferProtocol: true }, async (rf) => {
    await call(rf, 'POST', `${CD}/Actions/VirtualMedia.EjectMedia`, { body: {} });
    let a = await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://x/y.iso' } });
    assert.is(a.status, 400);
    assert.match(messages(a), /TransferProtocolType/);
    a = await call(rf, 'POST', `${CD}/Actions/VirtualMedia.InsertMedia`, {
      body: { Image: 'http://x/y.iso', TransferProtocolType: 'HTTP' },
    });
    assert.is(a.status, 204);
    assert.is((await call(rf, 'GET', CD)).body.TransferProtocolType, 'HTTP');
  });
});

test('powerTransitionPolls: the next n GETs of the system show the transition, then the final state', async () => {
  await withServer({ powerTransitionPolls: 4 }, async (rf) => {
    await call(rf, 'POST', `${S1}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'ForceRestart' } });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      seen.push((await call(rf, 'GET', S1)).body.PowerState);
      await call(rf, 'GET', '/redfish/v1/Systems/sys-2'); // other resources do not count
    }
    assert.equal(seen, ['PoweringOff', 'PoweringOff', 'Off', 'PoweringOn', 'On', 'On']);
  });
});

test('allowable lists, ActionInfo, system ids', async () => {
  await withServer(
    { systemIds: ['1', 'Self'], targets: ['Pxe', 'UsbCd'], modes: ['UEFI'], resets: ['PowerCycle'], resetActionInfo: true },
    async (rf) => {
      let a = await call(rf, 'GET', '/redfish/v1/Systems');
      assert.equal(a.body.Members, [{ '@odata.id': '/redfish/v1/Systems/1' }, { '@odata.id': '/redfish/v1/Systems/Self' }]);
      const sys = '/redfish/v1/Systems/Self';
      a = await call(rf, 'GET', sys);
      assert.equal(a.body.Boot['BootSourceOverrideTarget@Redfish.AllowableValues'], ['Pxe', 'UsbCd']);
      assert.equal(a.body.Boot['BootSourceOverrideMode@Redfish.AllowableValues'], ['UEFI']);
      const action = a.body.Actions['#ComputerSystem.Reset'];
      assert.is(action['ResetType@Redfish.AllowableValues'], undefined);
      a = await call(rf, 'GET', action['@Redfish.ActionInfo']);
      assert.equal(a.body.Parameters, [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: ['PowerCycle'] }]);
      assert.is((await call(rf, 'PATCH', sys, { body: { Boot: { BootSourceOverrideTarget: 'Cd' } } })).status, 400);
      assert.is((await call(rf, 'PATCH', sys, { body: { Boot: { BootSourceOverrideMode: 'Legacy' } } })).status, 400);
      assert.is((await call(rf, 'PATCH', sys, { body: { Boot: { BootSourceOverrideTarget: 'UsbCd' } } })).status, 204);
      assert.is((await call(rf, 'POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'ForceRestart' } })).status, 400);
      assert.is((await call(rf, 'POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'PowerCycle' } })).status, 204);
    },
  );
});

test('redirectNoSlash: 308 to the path with a slash for any method under Systems; links carry the slash', async () => {
  await withServer({ redirectNoSlash: true }, async (rf) => {
    let a = await call(rf, 'GET', '/redfish/v1/', { auth: false });
    assert.equal(a.body.Systems, { '@odata.id': '/redfish/v1/Systems/' });
    for (const method of ['GET', 'PATCH', 'POST']) {
      a = await call(rf, method, `${S1}?x=1`, { body: method === 'GET' ? undefined : {} });
      assert.is(a.status, 308, method);
      assert.is(a.headers.location, `${rf.url}${S1}/?x=1`);
    }
    assert.is(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'None', 'a redirected PATCH changes nothing');
    a = await call(rf, 'GET', `${S1}/`);
    assert.is(a.status, 200);
    assert.is(a.body['@odata.id'], `${S1}/`);
    assert.is(a.body.Actions['#ComputerSystem.Reset'].target, `${S1}/Actions/ComputerSystem.Reset/`);
    assert.is((await call(rf, 'PATCH', `${S1}/`, { body: pxe })).status, 204);
    assert.is((await call(rf, 'GET', '/redfish/v1/Managers/bmc-1')).status, 200, 'only Systems redirects');
  });
});

test.run();
