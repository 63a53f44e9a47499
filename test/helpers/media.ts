// The boot ISO fixture (test/fixtures/real/media) in a fresh directory, with stand-ins for the boot
// programs (test/real/media.test.ts boots the real ones), for the unit tests of `medium: iso`.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { tempDir } from './tmp.ts';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/real/media');

/** A loaders directory of stand-ins; `change` replaces (or, with undefined, leaves out) a file. */
export function mediaLoaders(dir = join(tempDir('media-loaders'), 'loaders'), change: Record<string, Uint8Array | undefined> = {}): string {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Uint8Array | undefined> = {
    'isolinux.bin': new Uint8Array(4096).fill(0x11),
    // ISOLINUX's hybrid MBR code (the USB image's first 432 bytes).
    'isohdpfx.bin': new Uint8Array(432).fill(0x55),
    'ldlinux.c32': new Uint8Array(3000).fill(0x22),
    'ipxe.lkrn': new Uint8Array(5000).fill(0x33),
    // An EFI binary that names the script iPXE runs from its medium (src/inputs/binaries.ts, runsAutoexec).
    'ipxe.efi': Uint8Array.from([0x4d, 0x5a, ...new Uint8Array(6000).fill(0x44), ...Buffer.from('file:/autoexec.ipxe\0')]),
    ...change,
  };
  for (const [name, bytes] of Object.entries(files)) if (bytes) writeFileSync(join(dir, name), bytes);
  return dir;
}

export type MediaDoc = Record<string, any>;

/** The media fixture with `change` applied, as `<at>/site` (`loaders`: its boot programs). */
export function mediaSite(change: (doc: MediaDoc) => void = () => undefined, at = tempDir('media-site'), loaders = mediaLoaders()): string {
  const dir = join(at, 'site');
  cpSync(FIXTURE, dir, { recursive: true });
  const doc = parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as MediaDoc;
  doc.boot.media_loaders = loaders;
  change(doc);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

/** The fixture's nodes made `n`: its Harvester node, then generic nodes like its second, each with its own MAC, address and BMC (a /20). */
export function withMediaNodes(doc: MediaDoc, n: number): void {
  const [hv, os] = doc.nodes as MediaDoc[];
  doc.network.cidr = '10.0.0.0/20';
  doc.nodes = [hv];
  for (let i = 1; i < n; i++) {
    const mac = `52:54:00:4e:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    const ip = `10.0.${8 + Math.floor(i / 250)}.${(i % 250) + 1}`;
    // A copy of the node, so that the YAML written has no aliases.
    doc.nodes.push({
      ...(JSON.parse(JSON.stringify(os)) as MediaDoc),
      hostname: `os-${i}`,
      mac,
      ip,
      bmc: { address: `10.0.${12 + Math.floor(i / 250)}.${(i % 250) + 1}` },
    });
  }
}
