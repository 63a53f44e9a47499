// What a QEMU boot leaves behind, read back by the boot tests (boot, lifecycle, generic,
// reinstall): the markers the test initramfs prints on the serial console, nginx's access log,
// the echo lines of an iPXE script, dnsmasq's TFTP log; and the `HARVGEN_<FILE>_ONLY` selection
// of boot cases. One copy here instead of one per test file.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { BUILTIN_DEFAULTS } from '../../../src/model/defaults.ts';
import { cleanSerial } from './qemu.ts';
import type { SiteTree } from './tree.ts';

/** The serial console as one line (markers broken over lines by the terminal width join again). */
export const flat = (serial: string): string => cleanSerial(serial).replace(/\n/g, '');

/** The path of a URL (what nginx's access log shows). */
export const pathOf = (url: string): string => new URL(url).pathname;

/** What the test initramfs printed: its `HARVGEN-` lines, the kernel command line, the config it fetched and its sha256. */
export function markers(serial: string): { cmdline?: string; lines: string[]; config?: Buffer; sha?: string } {
  const s = cleanSerial(serial);
  const lines = s.split('\n').filter((l) => l.startsWith('HARVGEN-'));
  const cmdline = /^HARVGEN-CMDLINE: (.*)$/m.exec(s)?.[1]?.trim();
  const b64 = /^HARVGEN-CONFIG-B64-BEGIN\n([\s\S]*?)^HARVGEN-CONFIG-B64-END/m.exec(s)?.[1];
  const sha = /^HARVGEN-CONFIG-SHA256: ([0-9a-f]{64})/m.exec(s)?.[1];
  return { cmdline, lines, config: b64 === undefined ? undefined : Buffer.from(b64.replace(/\s+/g, ''), 'base64'), sha };
}

/** One request of nginx's access log. */
export interface AccessRequest {
  ip: string;
  method: 'GET' | 'HEAD';
  path: string;
  status: number;
}

/** Parsed nginx access log lines (default "combined" format), GET and HEAD (OVMF's HTTP boot asks for the size first). */
export function requests(access: string): AccessRequest[] {
  return [...access.matchAll(/^(\S+) \S+ \S+ \[[^\]]+\] "(GET|HEAD) (\S+) [^"]*" (\d{3})/gm)].map((m) => ({
    ip: m[1]!,
    method: m[2] as AccessRequest['method'],
    path: m[3]!,
    status: Number(m[4]),
  }));
}

/** The fixed text of each `echo` of an iPXE script, up to its first variable (12 characters or more). */
export function echoes(script: string): string[] {
  return [...script.matchAll(/^[ \t]*echo[ \t]+(.+)$/gm)].map((m) => m[1]!.split('${')[0]!.trim()).filter((t) => t.length >= 12);
}

/** The UEFI loader firmware PXE gets over TFTP: the site's `boot.uefi_loader`, or the default. */
export function uefiLoaderOf(tree: SiteTree): string {
  return (tree.input.boot as { uefi_loader?: string }).uefi_loader ?? BUILTIN_DEFAULTS.boot.uefiLoader;
}

/** On a UEFI tree: the problem when dnsmasq's log shows no TFTP send of the site's UEFI loader. */
export function uefiLoaderProblem(tree: SiteTree, dnsmasqLog: string): string | undefined {
  if (tree.manifest.boot.firmware !== 'uefi') return undefined;
  const loader = uefiLoaderOf(tree);
  if (new RegExp(`sent \\S*${loader.replace('.', '\\.')} to`).test(dnsmasqLog)) return undefined;
  return `dnsmasq never sent ${loader} over TFTP (firmware PXE path not taken)`;
}

/** `<env>=<id>,<id>`: boot only these cases (a debugging aid; the others are not registered). */
export function selectedCases<C extends { id: string }>(cases: readonly C[], env: string): readonly C[] {
  const only = process.env[env]?.split(',').filter(Boolean);
  return only ? cases.filter((c) => only.includes(c.id)) : cases;
}

/** A tree's libvirt/network.xml and its domain XMLs (sorted). */
export async function libvirtFiles(tree: string): Promise<{ network: string; domains: string[] }> {
  const dir = path.join(tree, 'libvirt');
  const names = (await readdir(dir)).filter((f) => f.endsWith('.xml')).sort();
  return { network: path.join(dir, 'network.xml'), domains: names.filter((f) => f !== 'network.xml').map((f) => path.join(dir, f)) };
}
