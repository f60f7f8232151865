import { availableParallelism } from "node:os";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { searchProofOfWork } from "./pow-search.js";
import type { PowJob, PowReply } from "./pow-worker.js";

export interface PowSolver {
  /** The number in `[0, max]` that solves the challenge, or -1; rejects when `signal` aborts. */
  solve(seed: Uint8Array, digest: Uint8Array, max: number, signal?: AbortSignal): Promise<number>;
  /** How the last searches ran ("threads" or, where workers cannot start, "in-process"). */
  readonly mode: "threads" | "in-process";
  close(): Promise<void>;
}

export interface PowSolverOptions {
  /** Worker threads (default: every core). */
  threads?: number;
  /** Idle workers are stopped after this long, and started again for the next challenge. */
  idleMs?: number;
}

/** The worker beside this file: built, `pow-worker.js`; run from source, an entry that loads tsx first. */
const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./pow-worker-dev.mjs" : "./pow-worker.js",
  import.meta.url,
);

/**
 * Solves WAF challenges off the event loop: each search is split into one contiguous range per thread;
 * the first thread that finds the number tells the others through a shared flag, as does a cancelled
 * request. Searches queue on the workers in order. Where threads cannot start, the same search runs
 * in-process in slices that yield to the event loop.
 */
export function createPowSolver(options: PowSolverOptions = {}): PowSolver {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const idleMs = options.idleMs ?? 30_000;
  let workers: Worker[] | undefined;
  let mode: PowSolver["mode"] = "threads";
  let nextId = 0;
  let running = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const waiting = new Map<number, (found: number) => void>();

  function start(): Worker[] | undefined {
    if (workers) return workers;
    try {
      workers = Array.from({ length: threads }, () => {
        const worker = new Worker(WORKER_URL);
        worker.unref();
        worker.on("message", (reply: PowReply) => waiting.get(reply.id)?.(reply.found));
        worker.on("error", () => stop());
        return worker;
      });
      return workers;
    } catch {
      mode = "in-process";
      return undefined;
    }
  }

  function stop() {
    const current = workers;
    workers = undefined;
    for (const worker of current ?? []) void worker.terminate();
    // A search whose worker died gets -1 from it: the others still answer for their ranges.
    for (const settle of waiting.values()) settle(-1);
  }

  /** Hands one range to a worker; resolves with what it found there (-1: nothing, or it died). */
  function send(worker: Worker, job: Omit<PowJob, "id">) {
    const id = nextId++;
    return new Promise<number>((resolve) => {
      waiting.set(id, (found) => {
        waiting.delete(id);
        resolve(found);
      });
      worker.postMessage({ ...job, id } satisfies PowJob);
    });
  }

  return {
    get mode() {
      return mode;
    },
    async solve(seed, digest, max, signal) {
      signal?.throwIfAborted();
      clearTimeout(idleTimer);
      running++;
      try {
        const pool = start();
        return pool
          ? await onThreads(pool, send, seed, digest, max, signal)
          : await inProcess(seed, digest, max, signal);
      } finally {
        if (--running === 0) {
          idleTimer = setTimeout(stop, idleMs);
          idleTimer.unref();
        }
      }
    },
    async close() {
      clearTimeout(idleTimer);
      const current = workers;
      workers = undefined;
      await Promise.all((current ?? []).map((worker) => worker.terminate()));
    },
  };
}

/** The search in this thread, in slices that yield to the event loop. */
async function inProcess(seed: Uint8Array, digest: Uint8Array, max: number, signal?: AbortSignal) {
  const slice = 20_000;
  for (let from = 0; from <= max; from += slice) {
    signal?.throwIfAborted();
    const found = searchProofOfWork(seed, digest, from, Math.min(from + slice, max + 1));
    if (found >= 0) return found;
    await yieldToEventLoop();
  }
  return -1;
}

/** The search split into one contiguous range per worker, all told to stop once one finds it. */
async function onThreads(
  pool: Worker[],
  send: (worker: Worker, job: Omit<PowJob, "id">) => Promise<number>,
  seed: Uint8Array,
  digest: Uint8Array,
  max: number,
  signal?: AbortSignal,
) {
  const stopFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(stopFlag);
  const cancel = () => Atomics.store(flag, 0, 1);
  signal?.addEventListener("abort", cancel, { once: true });
  const span = Math.ceil((max + 1) / pool.length);
  try {
    const answers = pool.map((worker, index) =>
      send(worker, {
        seed,
        digest,
        start: index * span,
        end: Math.min((index + 1) * span, max + 1),
        stop: stopFlag,
      }),
    );
    const found = await Promise.race([firstFound(answers), aborted(signal)]);
    signal?.throwIfAborted();
    return found;
  } finally {
    cancel();
    signal?.removeEventListener("abort", cancel);
  }
}

/** The first non-negative answer, as soon as it comes; -1 once every range said no. */
function firstFound(answers: Promise<number>[]): Promise<number> {
  return new Promise((resolve) => {
    let left = answers.length;
    for (const answer of answers)
      void answer.then((found) => {
        if (found >= 0) resolve(found);
        else if (--left === 0) resolve(-1);
      });
  });
}

/** Never settles, or rejects when the signal aborts: a cancelled request does not wait for the threads. */
function aborted(signal?: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
