// A machine's measured facts as the model holds them (`SiteModel.measured`, src/facts/): looked up
// by hostname. What they say of a node as its installer sees them is src/derive/measured.ts.
import type { MeasuredFacts } from '../facts/types.ts';
import type { SiteModel } from './types.ts';

/** The facts file of `hostname`, an own entry only (a node named `constructor` has none unless measured). */
export function measuredOf(model: Pick<SiteModel, 'measured'>, hostname: string): MeasuredFacts | undefined {
  return model.measured !== undefined && Object.hasOwn(model.measured, hostname) ? model.measured[hostname] : undefined;
}
