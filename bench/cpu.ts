import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type postgres from 'postgres';

/** This process's CPU so far (ms). */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * The whole machine's busy CPU so far (ms, summed over its cores), from /proc/stat's
 * first line (Linux, 100 ticks a second): everything but idle and iowait, steal included
 * since another guest's time is not this machine's to use either.
 */
export function machineCpuMs(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = ticks.map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
  } catch {
    return 0;
  }
}

/** CPU time (ms) of another process from /proc (Linux; 100 ticks a second). A missing pid counts 0. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  } catch {
    return 0;
  }
}

export interface CpuSnapshot {
  node: number;
  /** CPU ms by backend pid. */
  postgres: Map<number, number>;
  /** The whole Redis server, which other users of this machine may share. */
  redis: number;
}

/** The pid of the Redis server `redis` is connected to (0 if it does not say). */
export async function redisServerPid(redis: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);
}

/**
 * Where the CPU goes: a node process (`pid`; default this one: bot, fake Slack,
 * bench driver), the Postgres backends serving this bench's database, and the
 * Redis server. The machine may be shared, so per-process figures say more
 * than machine load.
 */
export async function cpuMeter(sql: postgres.Sql, database: string, redis: Redis, pid?: number) {
  const redisPid = await redisServerPid(redis);
  const backends = async (): Promise<number[]> =>
    (await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database}`).map((r) => r.pid);
  const take = async (): Promise<CpuSnapshot> => {
    const pids = await backends();
    return { node: pid === undefined ? ownCpuMs() : procCpuMs(pid), postgres: new Map(pids.map((p) => [p, procCpuMs(p)])), redis: procCpuMs(redisPid) };
  };
  return {
    take,
    /** CPU ms per unit of work between two snapshots (a backend born in between started at 0). */
    per(a: CpuSnapshot, b: CpuSnapshot, units: number) {
      let pg = 0;
      for (const [pid, ms] of b.postgres) pg += ms - (a.postgres.get(pid) ?? 0);
      return { node: (b.node - a.node) / units, postgres: pg / units, redis: (b.redis - a.redis) / units };
    },
  };
}
