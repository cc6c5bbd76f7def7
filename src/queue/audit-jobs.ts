import type { Queue } from 'bullmq';
import { anchorChain } from '../flow/audit-anchor.js';
import { applyRetention } from '../flow/retention.js';
import type { FlowPorts } from '../flow/ports.js';

/** Maintenance jobs of the audit trail; their data is empty, the config says what to do. */
const AUDIT_JOBS = {
  /** Checks every minute whether `audit.anchor.everyMinutes` have passed. */
  'audit-anchor': { every: 60_000, run: (ports: FlowPorts) => anchorChain(ports) },
  /** Daily (and once at start): prunes what `audit.retention` no longer keeps. */
  'audit-retention': { every: 24 * 3_600_000, run: (ports: FlowPorts) => applyRetention(ports) },
} as const;

export function isAuditJob(name: string): name is keyof typeof AUDIT_JOBS {
  return Object.hasOwn(AUDIT_JOBS, name);
}

export function runAuditJob(ports: FlowPorts, name: keyof typeof AUDIT_JOBS): Promise<unknown> {
  return AUDIT_JOBS[name].run(ports);
}

/** Job schedulers are shared by every replica through Redis: each run happens once. */
export async function scheduleAuditJobs(maintenance: Queue): Promise<void> {
  await Promise.all(
    Object.entries(AUDIT_JOBS).map(([name, { every }]) => maintenance.upsertJobScheduler(name, { every }, { name, opts: { removeOnComplete: 10, removeOnFail: 100 } })),
  );
}
