import type { BaseLogger } from "pino";
import type { Leases } from "../stores/leases.js";

/** Work that runs without a request, every `everyMs`: on one instance of several per interval. */
export interface BackgroundJob {
  /** Names the job's lease. */
  name: string;
  everyMs: number;
  /** Aborted when the service closes. */
  run(signal: AbortSignal): Promise<void>;
  /** Whether there is nothing to do: then no lease is asked for (an idle job costs no lease traffic). */
  idle?: () => Promise<boolean>;
}

/**
 * Background work, started with the service (`ready()`) and stopped with it (`close()`, which waits for
 * the runs under way after aborting them). Each interval, an instance runs a job only once it holds the
 * job's lease for that interval (renewed while a long run goes on), so instances sharing Redis run it
 * once between them; a run still going locally is never started twice. A job that throws is logged and
 * runs again at its next interval.
 */
export function createScheduler(deps: { leases: Leases; log: BaseLogger }) {
  const jobs: BackgroundJob[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  let stopping = new AbortController();
  let started = false;

  async function runOnce(job: BackgroundJob) {
    if (job.idle && (await job.idle().catch(() => true))) return;
    const lease = await deps.leases.acquire(`job:${job.name}`, job.everyMs);
    if (!lease) return;
    // Kept while a run outlasts its interval; otherwise left to run out, so no other instance runs it
    // again before the interval is over.
    const renewal = setInterval(() => void lease.renew(job.everyMs), Math.max(1, job.everyMs / 2));
    renewal.unref();
    try {
      await job.run(stopping.signal);
    } catch (error) {
      if (!stopping.signal.aborted) deps.log.error({ err: error, job: job.name }, "background job failed");
    } finally {
      clearInterval(renewal);
    }
  }

  function tick(job: BackgroundJob) {
    if (running.has(job.name) || stopping.signal.aborted) return;
    const run = runOnce(job).finally(() => running.delete(job.name));
    running.set(job.name, run);
  }

  function schedule(job: BackgroundJob) {
    const timer = setInterval(() => tick(job), job.everyMs);
    timer.unref();
    timers.add(timer);
    tick(job);
  }

  return {
    add(job: BackgroundJob) {
      jobs.push(job);
      if (started) schedule(job);
    },
    start() {
      if (started) return;
      started = true;
      stopping = new AbortController();
      for (const job of jobs) schedule(job);
    },
    async stop() {
      started = false;
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      stopping.abort();
      await Promise.allSettled(running.values());
    },
    /** The jobs' names, for the health report and tests. */
    get jobs() {
      return jobs.map((job) => job.name);
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
