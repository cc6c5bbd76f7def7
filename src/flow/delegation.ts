import { parseDelegateCommand, type DelegateCommand } from '../domain/delegation.js';
import { delegationsOf, endLapsedDelegations, revokeDelegations, setDelegation } from '../db/queries/delegations.js';
import type { DelegationRow } from '../db/schema/delegations.js';
import type { FlowPorts } from './ports.js';

type Ports = Pick<FlowPorts, 'db' | 'config' | 'now'>;

export type DelegateResult =
  | { kind: 'set'; row: DelegationRow; replaced: DelegationRow[] }
  | { kind: 'off'; ended: DelegationRow[] }
  | { kind: 'list'; from: DelegationRow[]; to: DelegationRow[] }
  | Extract<DelegateCommand, { kind: 'error' }>;

/**
 * `/countersign delegate …` for `caller`: set an out-of-office delegate
 * (dates in the policy's time zone, at most `handoffs.delegationMaxDays`
 * ahead), end it, or list the delegations in force from and to them. Each
 * change is recorded (`delegation_set`, `delegation_ended`) with it.
 */
export async function delegate(ports: Ports, caller: string, args: readonly string[]): Promise<DelegateResult> {
  const { config } = ports.config.current();
  const now = ports.now();
  const timezone = config.policy?.timezone ?? 'UTC';
  const cmd = parseDelegateCommand(args, caller, { now, timezone, maxDays: config.handoffs.delegationMaxDays });
  switch (cmd.kind) {
    case 'error':
      return cmd;
    case 'set': {
      const { row, replaced } = await setDelegation(ports.db, { delegator: caller, delegate: cmd.delegate, startsAt: cmd.startsAt, endsAt: cmd.endsAt, until: cmd.until, timezone });
      return { kind: 'set', row, replaced };
    }
    case 'off':
      return { kind: 'off', ended: await revokeDelegations(ports.db, caller, now) };
    case 'list': {
      const rows = await delegationsOf(ports.db, caller, now);
      return { kind: 'list', from: rows.filter((r) => r.delegator === caller), to: rows.filter((r) => r.delegate === caller) };
    }
  }
}

/** The sweep's part: delegations past their end date are recorded as ended (`lapsed`), once. */
export async function endLapsed(ports: Pick<FlowPorts, 'db' | 'now'>): Promise<number> {
  return endLapsedDelegations(ports.db, ports.now());
}
