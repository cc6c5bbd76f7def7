import type { Redis } from 'ioredis';

export interface ScriptDef {
  lua: string;
  /** Fixed key count; omitted, the caller passes the count as the first argument. */
  numberOfKeys?: number;
}

/**
 * `redis` with these Lua commands defined (ioredis `defineCommand`: EVALSHA,
 * falling back to EVAL after a Redis restart emptied its script cache), typed as
 * `T`. A command already on the connection is left as it is, so stores that
 * share one connection define each command once.
 */
export function withScripts<T extends object>(redis: Redis, scripts: Record<keyof T & string, ScriptDef>): Redis & T {
  for (const [name, def] of Object.entries(scripts) as Array<[string, ScriptDef]>) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, def);
  }
  return redis as Redis & T;
}
