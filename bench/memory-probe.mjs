/**
 * Preloaded into the bot by bench/memory.ts (`node --import`, with
 * --expose-gc): on SIGUSR2 it writes one line to stderr,
 * `memory-probe {...}`, with process.memoryUsage() as it stands and again
 * after a full collection (what is garbage versus what is held), the V8 heap
 * spaces, and, when MEMORY_PROBE_SNAPSHOT_DIR is set, a heap snapshot's path.
 * The bot's own code is untouched: this is the bench's instrument, not a
 * production hook.
 */
import { writeHeapSnapshot, getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { join } from 'node:path';

const MB = (n) => Math.round(n / 1048576);
const usage = () => Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, MB(v)]));
let n = 0;
/** The largest heapTotal and RSS seen, sampled each second: the high-water mark a reading after the load does not show. */
const peak = { heapTotal: 0, rss: 0 };
setInterval(() => {
  const u = process.memoryUsage();
  peak.heapTotal = Math.max(peak.heapTotal, MB(u.heapTotal));
  peak.rss = Math.max(peak.rss, MB(u.rss));
}, 1000).unref();

process.on('SIGUSR2', () => {
  const before = usage();
  globalThis.gc?.();
  const after = usage();
  // A last-resort collection is the memory-reducing kind: it also returns V8's pooled pages to the system.
  globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  const afterLastResort = usage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: MB(s.space_size), used: MB(s.space_used_size) }]));
  const heap = Object.fromEntries(Object.entries(getHeapStatistics()).filter(([k]) => /size|memory/.test(k)).map(([k, v]) => [k, MB(v)]));
  const dir = process.env.MEMORY_PROBE_SNAPSHOT_DIR;
  const snapshot = dir ? writeHeapSnapshot(join(dir, `bot-${process.pid}-${++n}.heapsnapshot`)) : undefined;
  process.stderr.write(`memory-probe ${JSON.stringify({ before, afterGc: after, afterLastResort, peak, heap, spaces, snapshot })}\n`);
});
