// An OS profile's kernel, initrds and shim must be somewhere that serves them. The generated nginx
// serves the tree's files and the release files and answers 404 to everything else, so a profile
// URL on the boot server's origin reaches nothing unless someone serves it by hand: a warning at
// the profile's key (the file may be served by a location added outside harvgen).
import { osFiles, unservedOnBootServer } from '../../model/os-files.ts';
import type { Rule } from '../rule.ts';

/** OS profile URLs on the boot server, which its generated nginx does not serve. */
export const osProfileFilesRule: Rule = {
  name: 'os-profile-files',
  codes: ['OS_PROFILE_FILE_NOT_SERVED'],
  check({ input, model, report }) {
    for (const [name, p] of Object.entries(input.os_profiles ?? {})) {
      if (p?.kernel === undefined) continue;
      for (const f of osFiles({ kernel: p.kernel, initrds: p.initrds ?? [], ...(p.shim !== undefined ? { shim: p.shim } : {}) })) {
        if (!unservedOnBootServer(model, f.url)) continue;
        const field = f.key.length === 2 ? `initrds[${f.key[1]}]` : f.key[0];
        report({
          code: 'OS_PROFILE_FILE_NOT_SERVED',
          message: `${field} of OS profile ${name}, ${f.url}, is on the boot server (${model.boot.server}), whose generated nginx serves only the tree's files and the release files: a node booting ${name} gets 404 for it`,
          hint: `Point ${field} at another server that serves the file (a distribution mirror, a file server), or serve it from the boot server with an nginx location of your own outside the tree (harvgen's tree and nginx config are replaced on every deploy).`,
          at: ['os_profiles', name, ...f.key],
          target: f.key.length === 1 ? 'key' : 'value',
        });
      }
    }
  },
};
