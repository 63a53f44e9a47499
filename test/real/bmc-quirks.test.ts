// The generated Redfish script against the behaviours real BMCs are reported to have
// (docs/day-2.md "What BMC families do"), reproduced by the test service in
// helpers/redfish-server.ts: a mode reverted after the write, a mode forgotten unless sent,
// ETags required (header or body), a stale ETag, `Systems/Self`, several systems, a settings
// resource, AMI's future-state answer, task monitors (done and failed), conflicts, virtual media
// under the system or without actions, InsertMedia refusing flags or wanting the transfer
// protocol, power transitions, ActionInfo, UsbCd, redirects, an Enabled that reads Continuous, and
// the dry run. Each case runs the real script (curl, jq, HTTPS) and checks what the service saw
// and holds; each case also names a mutation of the script (the handling taken out) that the same
// check must catch, so a case that cannot fail is itself a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { build } from '../../src/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';
import { describe, run, type RunResult } from './helpers/proc.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import {
  certificate,
  startRedfishServer,
  type RedfishQuirks,
  type RedfishServer,
  type RedfishServerOptions,
  type SystemInit,
} from './helpers/redfish-server.ts';

const USER = 'admin';
const PASSWORD = `pw'"$x\\y q`; // quotes, `$`, a backslash and a space: curl's config syntax must carry them
const ISO = 'http://10.30.0.2/ipxe.iso';

interface Case {
  name: string;
  quirks?: RedfishQuirks;
  systems?: Record<string, SystemInit>;
  media?: RedfishServerOptions['media'];
  /** bmc.system of the node. */
  system?: string;
  /** Not a UEFI site (no boot mode). */
  bios?: boolean;
  args: string[];
  env?: Record<string, string>;
  /** undefined when the run did what the case asks; else what is wrong. */
  check: (r: RunResult, rf: RedfishServer) => string | undefined;
  /** The handling taken out of the script: the same check must then report a problem. */
  mutation: { name: string; from: string; to: string };
}

const json = (v: unknown): string => JSON.stringify(v) ?? '';
const writes = (rf: RedfishServer) => rf.requests.filter((q) => q.method !== 'GET');
const patchesTo = (rf: RedfishServer, p: string) => rf.requests.filter((q) => q.method === 'PATCH' && q.path === p);
const bootOf = (rf: RedfishServer, id: string) => rf.systems[id]!.Boot;
const problem = (ok: boolean, what: string, r: RunResult) => (ok ? undefined : `${what}\n${describe(r)}`);
/** The checks of a case, in order: the first problem. */
const all = (...checks: (string | undefined)[]) => checks.find((c) => c !== undefined);
const exit = (r: RunResult, code: number) => problem(r.code === code, `expected exit ${code}`, r);
const pxeDone = (rf: RedfishServer, id: string, mode = 'UEFI') => {
  const b = bootOf(rf, id);
  return b.BootSourceOverrideTarget === 'Pxe' && b.BootSourceOverrideEnabled === 'Once' && b.BootSourceOverrideMode === mode;
};

const CASES: Case[] = [
  {
    name: 'a mode reverted once after a 200 is written again, with the mode, and read back (Supermicro)',
    quirks: { revert: [{ field: 'BootSourceOverrideMode', to: 'Legacy', times: 1 }] },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(patchesTo(rf, '/redfish/v1/Systems/1').length === 2, 'two PATCHes', r),
        problem(pxeDone(rf, '1'), `the override holds: ${JSON.stringify(bootOf(rf, '1'))}`, r),
        problem(/BootSourceOverrideMode reads Legacy, not UEFI after the write/.test(r.stderr), 'the revert is reported', r),
      ),
    mutation: { name: 'no second write', from: '    write_boot "$boot_mode"\n    read_boot ||', to: '    read_boot ||' },
  },
  {
    name: 'a mode that reverts after every write is exit 3, naming the field, what it reads and what was asked',
    quirks: { revert: [{ field: 'BootSourceOverrideMode', to: 'Legacy', times: 99 }] },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r) =>
      all(
        exit(r, 3),
        problem(
          /the BMC accepted the boot override at \/redfish\/v1\/Systems\/1 but BootSourceOverrideMode reads Legacy, not UEFI \(after 2 writes\)/.test(
            r.stderr,
          ),
          'the message',
          r,
        ),
      ),
    mutation: { name: 'no read-back', from: '  if ! read_boot; then', to: '  if false; then' },
  },
  {
    name: 'virtual-media whose override fails its read-back after the insert (exit 3) ejects the image again and clears the override',
    quirks: { revert: [{ field: 'BootSourceOverrideMode', to: 'Legacy', times: 99 }] },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) =>
      all(
        exit(r, 3),
        problem(!rf.media.Cd1!.Inserted && !rf.media.Cd1!.Image, `the CD is empty again: ${json(rf.media.Cd1)}`, r),
        problem(bootOf(rf, '1').BootSourceOverrideEnabled === 'Disabled', `the override cleared: ${json(bootOf(rf, '1'))}`, r),
        problem(/r1: the override was cleared, \S+\/Cd1 ejected again\n/.test(r.stderr), 'what was undone is said', r),
      ),
    mutation: { name: 'nothing undone', from: 'failure_hook=on_failure\n', to: 'failure_hook=\n' },
  },
  {
    name: 'a BMC that forgets a mode not sent gets it on the second write (Mode already UEFI; Redfishtool)',
    quirks: { forgetModeUnlessSent: true },
    systems: { '1': { Boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'UEFI' } } },
    args: ['pxe-once'],
    check: (r, rf) => {
      const p = patchesTo(rf, '/redfish/v1/Systems/1');
      return all(
        exit(r, 0),
        problem(p.length === 2, 'two PATCHes', r),
        problem(json(p[1]?.body).includes('"BootSourceOverrideMode":"UEFI"'), 'the second carries the mode', r),
        problem(pxeDone(rf, '1'), 'the override holds', r),
      );
    },
    mutation: { name: 'the mode never sent', from: '    write_boot "$boot_mode"\n', to: '    write_boot ""\n' },
  },
  {
    name: 'a mode that already reads UEFI is not written again (Dell queues a BIOS job for it)',
    systems: { '1': { Boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'UEFI' } } },
    args: ['pxe-once'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(rf.counters.modeRewrites === 0, `${rf.counters.modeRewrites} rewrites of the mode`, r),
        problem(!writes(rf).some((q) => json(q.body).includes('BootSourceOverrideMode')), 'no write has the mode', r),
        problem(pxeDone(rf, '1'), 'the override holds', r),
      ),
    mutation: {
      name: 'the mode always sent',
      from: 'if [ "$current" != "$boot_mode" ]; then',
      to: 'if true; then',
    },
  },
  {
    name: 'an ETag in the header is sent back as If-Match on every PATCH (AMI, Lenovo XCC: 428 without)',
    quirks: { etag: 'header', requireIfMatch: true },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r, rf) => {
      const p = patchesTo(rf, '/redfish/v1/Systems/1');
      return all(
        exit(r, 0),
        problem(p.length === 1 && /^"\d+"$/.test(p[0]!.headers['if-match'] ?? ''), `If-Match: ${p[0]?.headers['if-match']}`, r),
        problem(pxeDone(rf, '1'), 'the override holds', r),
      );
    },
    mutation: { name: 'no If-Match', from: `if [ -n "\${4:-}" ]; then printf 'header = %s\\n' "$(cfg "If-Match: $4")"; fi`, to: ':' },
  },
  {
    name: 'an ETag only in @odata.etag is used the same way (Supermicro, Dell media)',
    quirks: { etag: 'body', requireIfMatch: true, etagWeak: true },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(patchesTo(rf, '/redfish/v1/Systems/1')[0]?.headers['if-match']?.startsWith('W/"') === true, 'the weak tag sent as read', r),
      ),
    mutation: {
      name: 'header ETags only',
      from: `  if [ -z "$etag" ] && grep -q '"@odata.etag"' "$tmp/body"; then etag=$(jq -r '.["@odata.etag"] // empty' "$tmp/body" 2>/dev/null || true); fi\n`,
      to: '',
    },
  },
  {
    name: 'a stale ETag (412) is read again and the PATCH sent once more with the new one',
    quirks: { etag: 'header', requireIfMatch: true, staleEtagOnce: true },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r, rf) => {
      const p = patchesTo(rf, '/redfish/v1/Systems/1');
      return all(
        exit(r, 0),
        problem(p.length === 2 && p[0]!.headers['if-match'] !== p[1]!.headers['if-match'], 'two PATCHes, two tags', r),
        problem(pxeDone(rf, '1'), 'the override holds', r),
      );
    },
    mutation: { name: 'no retry', from: '  c_retagged=no\n', to: '  c_retagged=yes\n' },
  },
  {
    name: 'Systems/Self, the one member, is found from the service root (AMI)',
    quirks: { systemIds: ['Self'] },
    args: ['pxe-once'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(rf.requests[0]?.path === '/redfish/v1/', 'the service root is read first', r),
        problem(patchesTo(rf, '/redfish/v1/Systems/Self').length === 1 && pxeDone(rf, 'Self'), 'Self is written', r),
      ),
    mutation: { name: 'a guessed system', from: '      1) sys=$(cat "$tmp/systems") ;;', to: '      1) sys=/redfish/v1/Systems/1 ;;' },
  },
  {
    name: 'several systems and no bmc.system: exit 2 listing them, and nothing written',
    quirks: { systemIds: ['1', '2'] },
    args: ['power-cycle'],
    check: (r, rf) =>
      all(
        exit(r, 2),
        problem(writes(rf).length === 0, 'no write', r),
        problem(r.stderr.includes('lists several systems (/redfish/v1/Systems/1 /redfish/v1/Systems/2): set bmc.system'), 'the members', r),
      ),
    mutation: {
      name: 'the first member taken',
      from: '      *) die "$systems lists several systems ($members): set bmc.system to the one this node is" 2 ;;',
      to: '      *) sys=$(head -n 1 "$tmp/systems") ;;',
    },
  },
  {
    name: 'a bmc.system the BMC does not list: exit 2 with what it lists, nothing written',
    quirks: { systemIds: ['1', '2'] },
    system: '/redfish/v1/Systems/3',
    args: ['pxe-once'],
    check: (r, rf) =>
      all(
        exit(r, 2),
        problem(writes(rf).length === 0, 'no write', r),
        problem(r.stderr.includes('bmc.system /redfish/v1/Systems/3 is not a member of /redfish/v1/Systems'), 'the message', r),
      ),
    mutation: {
      name: 'bmc.system used as written',
      from: `    [ -n "$sys" ] || die "bmc.system $system is not a member of $systems (it lists: \${members:-nothing})" 2`,
      to: '    [ -n "$sys" ] || sys=$system',
    },
  },
  {
    name: 'bmc.system chooses among several members (members listed with a trailing /, as iLO does)',
    quirks: { systemIds: ['1', '2'], redirectNoSlash: true },
    system: '/redfish/v1/Systems/2',
    args: ['pxe-once'],
    check: (r, rf) => all(exit(r, 0), problem(pxeDone(rf, '2') && !pxeDone(rf, '1'), 'system 2 is written', r)),
    mutation: {
      name: 'the trailing / compared',
      from: '      if [ "${member%/}" = "${system%/}" ]; then sys=$member; fi',
      to: '      if [ "$member" = "$system" ]; then sys=$member; fi',
    },
  },
  {
    name: 'a settings resource named by @Redfish.Settings gets the override, with its ETag and apply time, and a reset applies it',
    quirks: {
      bootSettings: 'annotated',
      settingsApplyTimes: ['OnReset', 'AtMaintenanceWindowStart'],
      etag: 'header',
      requireIfMatch: true,
    },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r, rf) => {
      const p = patchesTo(rf, '/redfish/v1/Systems/1/Settings');
      return all(
        exit(r, 0),
        problem(p.length === 1 && p[0]!.headers['if-match'] !== undefined, 'one PATCH of the settings object with If-Match', r),
        problem(json(p[0]?.body).includes('"@Redfish.SettingsApplyTime":{"ApplyTime":"OnReset"}'), 'the apply time', r),
        problem(rf.settings['1']!.Boot.BootSourceOverrideTarget === 'Pxe', 'pending in the settings object', r),
        problem(/pending at \/redfish\/v1\/Systems\/1\/Settings, read back/.test(r.stdout), 'the output says pending', r),
      );
    },
    mutation: { name: '@Redfish.Settings ignored', from: '    written=$settings\n', to: '' },
  },
  {
    name: "AMI's future-state answer (400 OperationSupportedInFutureStateURI) sends the override to Systems/Self/SD",
    quirks: { systemIds: ['Self'], bootSettings: 'ami-sd', etag: 'header', requireIfMatch: true },
    args: ['pxe-once'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(patchesTo(rf, '/redfish/v1/Systems/Self/SD').length === 1, 'one PATCH of SD', r),
        problem(rf.settings.Self!.Boot.BootSourceOverrideTarget === 'Pxe', 'pending in SD', r),
        problem(r.stdout.includes('keeps boot properties at /redfish/v1/Systems/Self/SD (future state)'), 'said', r),
      ),
    mutation: {
      name: 'no future-state fallback',
      from: '  [ "$rejected" = yes ] || return 0\n  moved=',
      to: '  [ "$rejected" = yes ] || return 0\n  fail PATCH "$written"\n  moved=',
    },
  },
  {
    name: 'a reset answered 202 with a task monitor is awaited until the task is done, then the power read back',
    quirks: { taskMonitor: { on: ['reset'], polls: 2, final: 200 } },
    systems: { '1': { PowerState: 'Off' } },
    args: ['power-cycle'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(
          rf.requests.filter((q) => q.path.startsWith('/redfish/v1/TaskService/TaskMonitors/')).length === 3,
          'three monitor reads',
          r,
        ),
        problem(rf.systems['1']!.PowerState === 'On', 'powered on', r),
        problem(r.stdout.includes('On (was Off); PowerState reads On'), 'said', r),
      ),
    mutation: {
      name: '202 taken as done',
      from: '      202)\n        wait_task\n        return 0\n        ;;',
      to: '      202) return 0 ;;',
    },
  },
  {
    name: 'a task that ends in Exception is exit 1 with its message',
    quirks: { taskMonitor: { on: ['reset'], polls: 1, final: 'exception' } },
    systems: { '1': { PowerState: 'Off' } },
    args: ['power-cycle'],
    check: (r) =>
      all(exit(r, 1), problem(/ended Exception: The operation POST .* failed on the BMC\./.test(r.stderr), 'the task message', r)),
    mutation: { name: 'TaskState ignored', from: '      Exception | Killed | Cancelled)', to: '      Never)' },
  },
  {
    name: 'a 409 on the first InsertMedia is retried',
    quirks: { conflictOnce: ['insert'] },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) =>
      all(exit(r, 0), problem(rf.media.Cd1!.Image === ISO && rf.media.Cd1!.Inserted, 'inserted', r), problem(pxeBootCd(rf), 'Cd once', r)),
    mutation: { name: 'no 409 handling', from: '      409)\n', to: '      409999)\n' },
  },
  {
    name: "virtual media found under the system's own link (newer iDRAC 9, Manager.VirtualMedia deprecated)",
    quirks: { vmedia: 'system' },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) => all(exit(r, 0), problem(rf.media.Cd1!.Image === ISO, 'inserted', r)),
    mutation: {
      name: 'managers only',
      from: `  collection=$(jqr '.VirtualMedia["@odata.id"] // empty' "$tmp/system")\n  if [ -z "$collection" ]; then`,
      to: '  collection=\n  if [ -z "$collection" ]; then',
    },
  },
  {
    name: 'virtual media without actions (VirtualMedia before v1.2, Lenovo SD530) is ejected and inserted by PATCH with If-Match',
    quirks: { vmediaPatchOnly: true, etag: 'header', requireIfMatch: true },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) => {
      const p = patchesTo(rf, rf.mediaPath('Cd1'));
      return all(
        exit(r, 0),
        problem(p.length === 2 && p.every((q) => q.headers['if-match'] !== undefined), 'eject and insert PATCHes with If-Match', r),
        problem(JSON.stringify(p[1]?.body) === JSON.stringify({ Image: ISO, Inserted: true, WriteProtected: true }), 'the insert', r),
        problem(rf.media.Cd1!.Image === ISO && rf.media.Cd1!.Inserted, 'inserted', r),
      );
    },
    mutation: { name: 'actions only', from: '  if [ "$actions" = yes ]; then', to: '  if true; then' },
  },
  {
    name: 'InsertMedia sends the image only (Supermicro X11 refuses Inserted and WriteProtected)',
    quirks: { insertRejectsFlags: true },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) => all(exit(r, 0), problem(rf.media.Cd1!.Image === ISO, 'inserted', r)),
    mutation: {
      name: 'flags sent',
      from: `change POST "$insert" "$(jq -cn --arg image "$url" '{Image: $image}')"`,
      to: `change POST "$insert" "$(jq -cn --arg image "$url" '{Image: $image, Inserted: true, WriteProtected: true}')"`,
    },
  },
  {
    name: 'a BMC that wants TransferProtocolType gets the insert again with HTTP',
    quirks: { requireTransferProtocol: true },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) =>
      all(exit(r, 0), problem(rf.media.Cd1!.Image === ISO && rf.media.Cd1!.TransferProtocolType === 'HTTP', 'inserted over HTTP', r)),
    mutation: {
      name: 'no retry',
      from: '      grep -q TransferProtocolType "$tmp/body" || fail POST "$insert"',
      to: '      fail POST "$insert"',
    },
  },
  {
    name: 'the virtual CD boots as UsbCd when the BMC lists UsbCd and no Cd (Supermicro)',
    quirks: { targets: ['None', 'Pxe', 'Hdd', 'UsbCd'] },
    systems: { '1': {} },
    args: ['virtual-media', ISO],
    check: (r, rf) => all(exit(r, 0), problem(bootOf(rf, '1').BootSourceOverrideTarget === 'UsbCd', 'UsbCd', r)),
    mutation: { name: 'always Cd', from: '    want_target=UsbCd\n', to: '    :\n' },
  },
  {
    name: 'after a reset the power is read through its passing states until On',
    quirks: { powerTransitionPolls: 3 },
    systems: { '1': {} },
    args: ['power-cycle'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(rf.systems['1']!.transition.length === 0 && rf.systems['1']!.PowerState === 'On', 'waited until the BMC said On', r),
      ),
    mutation: { name: 'no wait', from: '    if [ "$now" = On ]; then', to: '    if true; then' },
  },
  {
    name: 'reset types from @Redfish.ActionInfo: PowerCycle where ForceRestart is not allowed',
    quirks: { resetActionInfo: true, resets: ['On', 'ForceOff', 'PowerCycle'] },
    systems: { '1': {} },
    args: ['power-cycle'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(JSON.stringify(writes(rf).map((q) => q.body)) === JSON.stringify([{ ResetType: 'PowerCycle' }]), 'PowerCycle', r),
      ),
    mutation: { name: 'ActionInfo ignored', from: '  if [ -z "$allowed" ] && [ -n "$info" ]; then', to: '  if false; then' },
  },
  {
    name: 'a 308 to the path with a trailing slash is followed (iLO 5 before 1.40)',
    quirks: { redirectNoSlash: true, linksWithoutSlash: true, systemIds: ['1'] },
    args: ['pxe-once'],
    check: (r, rf) => all(exit(r, 0), problem(pxeDone(rf, '1'), 'the override holds', r)),
    mutation: { name: 'no redirects', from: '      301 | 302 | 303 | 307 | 308)\n', to: '      301999)\n' },
  },
  {
    name: 'a redirect to another host stops the script: the request goes nowhere else',
    quirks: { redirectElsewhere: '127.0.0.2:9', systemIds: ['1'] },
    args: ['pxe-once'],
    check: (r) =>
      all(exit(r, 1), problem(r.stderr.includes('the BMC sent the request on to https://127.0.0.2:9/redfish/v1/Systems'), 'named', r)),
    mutation: {
      name: 'any host',
      from: '      [ "${rest%%/*}" = "$address" ] || die "$2: the BMC sent the request on to $(shown "$1"), another host"\n',
      to: '',
    },
  },
  {
    name: 'a read-back answered with no JSON (a busy BMC) is no read-back: the override is read again',
    quirks: { garbledReadsAfterPatch: 2 },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r, rf) => {
      const after = rf.requests.slice(rf.requests.findIndex((q) => q.method === 'PATCH') + 1);
      return all(
        exit(r, 0),
        problem(patchesTo(rf, '/redfish/v1/Systems/1').length === 1 && pxeDone(rf, '1'), 'one write', r),
        problem(after.filter((q) => q.method === 'GET').length === 3, 'read until the BMC answered JSON (2 pages, then the system)', r),
      );
    },
    mutation: { name: 'garbage taken for a match', from: `|| diff='the BMC answered no JSON'`, to: `|| diff=` },
  },
  {
    name: 'a BMC that answers every read-back with no JSON: exit 3, never "read back"',
    quirks: { garbledReadsAfterPatch: 99 },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r) => all(exit(r, 3), problem(r.stderr.includes('but the BMC answered no JSON (after 2 writes)'), 'named', r)),
    mutation: { name: 'no JSON check', from: `|| diff='the BMC answered no JSON'`, to: `|| diff=` },
  },
  {
    name: 'an override that reads Continuous is not taken for Once (sushy-tools): exit 3',
    quirks: { enabledReadsContinuous: true },
    systems: { '1': {} },
    args: ['pxe-once'],
    check: (r) =>
      all(
        exit(r, 3),
        problem(r.stderr.includes('BootSourceOverrideEnabled reads Continuous, not Once: this BMC keeps boot overrides'), 'named', r),
      ),
    mutation: {
      name: 'Enabled not compared',
      from: '    elif .BootSourceOverrideEnabled != "Once" and ($k != "yes" or .BootSourceOverrideEnabled != "Continuous") then',
      to: '    elif false then',
    },
  },
  {
    name: 'http-boot-once sets UefiHttp and the URI, read back',
    systems: { '1': {} },
    args: ['http-boot-once'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(
          bootOf(rf, '1').HttpBootUri === 'http://10.30.0.2/snponly.efi' && bootOf(rf, '1').BootSourceOverrideTarget === 'UefiHttp',
          'set',
          r,
        ),
      ),
    mutation: { name: 'no URI', from: `+ (if $u == "" then {} else {HttpBootUri: $u} end))}`, to: '+ {})}' },
  },
  {
    name: '--dry-run sends reads only and prints each change with its body and If-Match',
    quirks: { etag: 'header', requireIfMatch: true },
    systems: { '1': {} },
    args: ['--dry-run', 'virtual-media', ISO],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(writes(rf).length === 0, 'nothing sent but reads', r),
        problem(
          /r1: would POST \/redfish\/v1\/Managers\/bmc-1\/VirtualMedia\/Cd1\/Actions\/VirtualMedia.EjectMedia\n/.test(r.stdout),
          'eject',
          r,
        ),
        problem(r.stdout.includes(`r1:   {"Image":"${ISO}"}\n`), 'the insert body', r),
        problem(/r1: would PATCH \/redfish\/v1\/Systems\/1 {2}If-Match: "\d+"\nr1: {3}\{"Boot":/.test(r.stdout), 'the PATCH', r),
        problem(r.stdout.endsWith('r1: dry run: nothing was changed\n'), 'the last line', r),
        problem(rf.media.Cd1!.Image === 'http://old/old.iso', 'the old image is still in', r),
      ),
    mutation: {
      name: 'sent anyway',
      from: '  if [ "$dry" = yes ]; then\n    printf \'%s: would %s',
      to: "  if false; then\n    printf '%s: would %s",
    },
  },
  {
    name: 'status prints the power, the override, a pending one and each medium, and writes nothing',
    quirks: { bootSettings: 'annotated' },
    systems: {
      '1': { Boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'UEFI' } },
    },
    args: ['status'],
    check: (r, rf) =>
      all(
        exit(r, 0),
        problem(writes(rf).length === 0, 'no write', r),
        problem(
          r.stdout ===
            [
              'r1: system /redfish/v1/Systems/1: PowerState On',
              'r1: boot override: Hdd, Continuous, UEFI',
              'r1: pending at /redfish/v1/Systems/1/Settings: Hdd, Continuous, UEFI',
              'r1: virtual media /redfish/v1/Managers/bmc-1/VirtualMedia/Floppy1 (Floppy USBStick): empty',
              'r1: virtual media /redfish/v1/Managers/bmc-1/VirtualMedia/Cd1 (CD DVD): http://old/old.iso, inserted',
              '',
            ].join('\n'),
          'the lines',
          r,
        ),
      ),
    mutation: { name: 'no pending line', from: `      say "pending at $settings:`, to: `      : "pending at $settings:` },
  },
];

function pxeBootCd(rf: RedfishServer): boolean {
  const b = bootOf(rf, '1');
  return b.BootSourceOverrideTarget === 'Cd' && b.BootSourceOverrideEnabled === 'Once';
}

const built = new Map<string, string>();
/** What a run of a mutant gives when the script no longer holds the text it replaces. */
const NOT_APPLIED = 'the mutation does not apply';

/**
 * The script of node r1 on a BMC at port (a UEFI site with UEFI HTTP boot unless bios): built
 * once per bmc.system and firmware for port 1, whose address the test then replaces (the build
 * writes it once, as one shell word, in `address=` and `base=`).
 */
async function script(port: number, c: Case): Promise<string> {
  const key = JSON.stringify([c.system, c.bios]);
  if (!built.has(key)) built.set(key, await buildScript(c));
  const text = built.get(key)!;
  const got = text.replaceAll('127.0.0.1:1\n', `127.0.0.1:${port}\n`);
  assert.is(got.split(`127.0.0.1:${port}\n`).length, 3, 'the address is in address= and base=');
  return got;
}

async function buildScript(c: Case): Promise<string> {
  const root = tempDir('bmc-quirk-site');
  const dir = path.join(root, 'site');
  mkdirSync(dir);
  const site = {
    site: 'quirks',
    harvester: { version: 'v1.5.1', artifacts: 'http://10.30.0.2/artifacts' },
    boot: { server: 'http://10.30.0.2', firmware: c.bios ? 'bios' : 'uefi', ...(c.bios ? {} : { http_boot: true }) },
    network: { cidr: '10.30.0.0/24', gateway: '10.30.0.1', dns: ['10.30.0.1'], dhcp_range: '10.30.0.100-10.30.0.199' },
    cluster: { vip: '10.30.0.10', token: 'test-token', ssh_authorized_keys: ['github:harvgen-ops'] },
    defaults: { install: { device: '/dev/vda' }, bmc: { user: { env: 'T_BMC_USER' }, password: { env: 'T_BMC_PASSWORD' } } },
    nodes: [
      {
        hostname: 'r1',
        mac: '52:54:00:30:00:01',
        bmc: { address: '127.0.0.1:1', ...(c.system ? { system: c.system } : {}) },
      },
    ],
  };
  writeFileSync(path.join(dir, 'site.yaml'), stringify(site));
  const out = path.join(root, 'out');
  const r = await build({ sites: [dir], outDir: out, cwd: REPO_ROOT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics, null, 2));
  return readFileSync(path.join(r.sites[0]!.dir, 'bmc', 'r1.sh'), 'utf8');
}

test('every quirk: the script copes, and the script without its handling is caught', async () => {
  if (!requireProgram('curl', 'jq', 'openssl', 'dash')) return;
  const tls = await certificate();
  const env = {
    ...process.env,
    T_BMC_USER: USER,
    T_BMC_PASSWORD: PASSWORD,
    CURL_CA_BUNDLE: tls.certFile,
    HARVGEN_BMC_POLL: '0',
    HARVGEN_BMC_WAIT: '3',
    HARVGEN_BMC_POWER_WAIT: '8',
    HARVGEN_BMC_TASK_WAIT: '8',
  };
  const dir = tempDir('bmc-quirk-run');
  const once = async (c: Case, edit?: Case['mutation']) => {
    const name = `${CASES.indexOf(c)}${edit ? '-mutant' : ''}.sh`;
    const rf = await startRedfishServer({
      tls,
      user: USER,
      password: PASSWORD,
      ...(c.quirks ? { quirks: c.quirks } : {}),
      ...(c.systems ? { systems: c.systems } : {}),
      ...(c.media ? { media: c.media } : {}),
    });
    try {
      let text = await script(rf.port, c);
      if (edit) {
        if (!text.includes(edit.from)) return NOT_APPLIED;
        text = text.replace(edit.from, edit.to);
      }
      const file = path.join(dir, name);
      writeFileSync(file, text, { mode: 0o755 });
      // dash: the POSIX sh of Debian's /bin/sh, with none of bash's extensions.
      const r = await run(['dash', file, ...c.args], { env: { ...env, ...c.env }, timeoutMs: 60_000 });
      // No run puts the password in anything it prints.
      assert.not.ok(r.stdout.includes(PASSWORD) || r.stderr.includes(PASSWORD), `${c.name}: the password was printed`);
      return c.check(r, rf);
    } finally {
      await rf.close();
    }
  };
  // Every case runs (a list of what failed reads better than the first failure alone), three at
  // a time: each has a service of its own, and most of a run is curl and jq starting.
  const failures: string[] = [];
  const queue = [...CASES];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const got = await once(c);
      if (got !== undefined) failures.push(`${c.name}: ${got}`);
      const mutant = await once(c, c.mutation);
      if (mutant === NOT_APPLIED) failures.push(`${c.name}: the mutation "${c.mutation.name}" does not apply to the script`);
      else if (mutant === undefined) failures.push(`${c.name}: the mutation "${c.mutation.name}" is not caught`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.equal(failures, [], failures.join('\n\n'));
});

test.run();
