// Stage after validation, before render: the files the tree copies from outside the inventory,
// which only the validated model can name (the iPXE binaries of `boot.ipxe_binaries` its firmware
// needs, the `cloud_init.user_data_file`s of its generic nodes). Each is read once per compile,
// inside the repository boundary, and stamped like the inventory files for the up-to-date
// check; the contents go to render as `RenderInputs`, never into the frozen model (watch's render
// cache JSON-stringifies the model).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/locate.ts';
import type { RepoBoundary } from '../load/repo.ts';
import type { InputStamp } from '../load/stamps.ts';
import type { SiteModel } from '../model/index.ts';
import { loadIpxeBinaries, loadMediaLoaders } from './binaries.ts';
import { loadUserDataFiles } from './user-data.ts';

/** The files a site copies, what was wrong with them, and the stamps of everything looked at. */
export interface InputFiles {
  /** iPXE binaries by file name. */
  readonly binaries: ReadonlyMap<string, Uint8Array>;
  /** The boot programs of the per-node boot ISOs by file name (`boot.media_loaders`; empty when no node has `medium: iso`). */
  readonly mediaLoaders: ReadonlyMap<string, Uint8Array>;
  /** Texts of the user-data files by path as written. */
  readonly userData: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
  readonly stamps: readonly InputStamp[];
}

/** Read the files `model` names, relative to the site directory `siteDir`, inside `repo`. */
export function readInputFiles(model: SiteModel, siteDir: string, locate: Locator, repo?: RepoBoundary): InputFiles {
  const binaries = loadIpxeBinaries(model, siteDir, locate, repo);
  const userData = loadUserDataFiles(model, siteDir, locate, repo);
  const media = loadMediaLoaders(model, siteDir, locate, repo);
  return {
    binaries: binaries.files,
    mediaLoaders: media.files,
    userData: userData.files,
    diagnostics: [...binaries.diagnostics, ...userData.diagnostics, ...media.diagnostics],
    stamps: [...binaries.stamps, ...userData.stamps, ...media.stamps],
  };
}
