// failover: two boot servers (src/derive/failover.ts decides what is wrong; the same module says
// what each server's files are made of).
import { failoverProblems } from '../../derive/failover.ts';
import type { Rule } from '../rule.ts';

export const failoverRule: Rule = {
  name: 'failover',
  codes: ['FAILOVER_SHARED_ADDRESS', 'FAILOVER_SERVER_ADDRESS', 'FAILOVER_INTERFACE', 'FAILOVER_UNSUPPORTED'],
  check({ model, report }) {
    if (!model.failover) return;
    const nodes = model.nodes.flatMap((n) => (n.ip !== undefined ? [n.ip] : []));
    for (const p of failoverProblems(model, nodes)) report({ code: p.code, message: p.message, hint: p.hint, at: [...p.at] });
  },
};
