/**
 * A CPU quota for one process, through the kernel's cgroup CPU controller: the
 * bench's stand-in for "a core of its own" on a machine with fewer cores than
 * processes. A process with a quota of 0.25 gets at most 25 ms of CPU in every
 * 100 ms period, however idle the machine is; N such processes are N quarter
 * cores, and the rest of the machine (Postgres, Redis, the driver) keeps what
 * they leave.
 *
 * cgroup v2 (`cpu.max` under /sys/fs/cgroup, the cpu controller enabled for
 * children) or v1 (`cpu.cfs_quota_us` under /sys/fs/cgroup/cpu). Both need
 * write access to the hierarchy (root, or a delegated subtree); without it
 * the bench says so and stops, instead of measuring without the quota.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** CFS period (µs): the kernel's default, 100 ms. */
const PERIOD_US = 100_000;

export interface CpuQuota {
  /** The cgroup's own directory. */
  dir: string;
  /** Times the kernel held the group back for reaching its quota. */
  throttled(): number;
  /** Removes the group; its processes must have exited. */
  remove(): void;
}

const V1_ROOT = '/sys/fs/cgroup/cpu';
const V2_ROOT = '/sys/fs/cgroup';

function v2(): boolean {
  return existsSync(join(V2_ROOT, 'cgroup.controllers')) && readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu');
}

/** Puts `pid` (all its threads) into a new cgroup limited to `cores` of CPU (0.25 = a quarter core). */
export function limitCpu(pid: number, cores: number, name: string): CpuQuota {
  if (!(cores > 0)) throw new Error(`--cpu-per-process must be a positive number of cores, got ${cores}`);
  const quotaUs = Math.round(cores * PERIOD_US);
  const useV2 = v2();
  const root = useV2 ? V2_ROOT : V1_ROOT;
  const dir = join(root, name);
  let made = false;
  try {
    mkdirSync(dir);
    made = true;
    if (useV2) writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
    else {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
    }
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  } catch (err) {
    // A group left half set up would outlive the bench.
    if (made) rmdirSync(dir);
    throw new Error(`cannot set a CPU quota under ${root} (${(err as Error).message}): run as root, or on a machine with a writable cgroup CPU controller`);
  }
  const stat = () => Object.fromEntries(readFileSync(join(dir, 'cpu.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]));
  return {
    dir,
    throttled: () => Number(stat().nr_throttled),
    remove: () => rmdirSync(dir),
  };
}
