// The resolver of a node that boots a generic OS profile (`os: <profile>`), with its cloud-init data.
import type { NodeInput } from '../../types/site-input.ts';
import { closest } from '../../util/suggest.ts';
import type { NodeReader } from '../layers.ts';
import type { ModelProblem, OsNode } from '../types.ts';
import { HARVESTER_ONLY, resolveBase, type SiteContext } from './common.ts';

/** What an OS profile node ignores, and what to do instead. */
export const OS_IGNORES: Readonly<Record<string, string>> = HARVESTER_ONLY;

/** An OS profile node, or why it cannot be one (its profile is not defined). */
export function resolveOsNode(r: NodeReader, ctx: SiteContext, name: string): OsNode | ModelProblem {
  const { node, index, sources } = r;
  const os = Object.hasOwn(ctx.osProfiles, name) ? ctx.osProfiles[name] : undefined;
  if (!os) {
    const names = Object.keys(ctx.osProfiles);
    const near = closest(name, [...names, 'harvester']);
    return {
      code: 'OS_PROFILE_UNKNOWN',
      node: node.hostname ?? '',
      message: `node ${node.hostname ?? ''} boots OS profile "${name}", which os_profiles does not define`,
      hint: near
        ? `Did you mean "${near}"?`
        : names.length
          ? `Defined: ${names.join(', ')}.`
          : 'Define it under `os_profiles:` in site.yaml.',
      at: sources.os ?? ['nodes', index],
    };
  }
  const base = resolveBase(r, ctx);
  const ci = r.mergeMap<NonNullable<NodeInput['cloud_init']>>('cloud_init');
  return {
    ...base,
    boot: 'os',
    os,
    cloudInit: {
      ...(ci.user_data !== undefined ? { userData: ci.user_data } : {}),
      ...(ci.user_data_file !== undefined ? { userDataFile: ci.user_data_file } : {}),
      ...(ci.vendor_data !== undefined ? { vendorData: ci.vendor_data } : {}),
      ...(ci.meta_data !== undefined ? { metaData: ci.meta_data } : {}),
    },
  };
}
