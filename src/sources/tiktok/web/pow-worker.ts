import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { searchProofOfWork } from "./pow-search.js";

/** One slice of a proof-of-work search, as the solver hands it to a worker thread. */
export interface PowJob {
  id: number;
  seed: Uint8Array;
  digest: Uint8Array;
  start: number;
  end: number;
  /** Shared with the other threads: 0 while the search goes on; set when one finds it or it is cancelled. */
  stop: SharedArrayBuffer;
}

export interface PowReply {
  id: number;
  found: number;
}

// The search yields to the event loop of the main thread, which serves every request: on Linux the
// nice value is per thread, so this lowers this worker's priority only.
try {
  setPriority(10);
} catch {
  // Not permitted here: the search still runs, at the normal priority.
}

parentPort?.on("message", (job: PowJob) => {
  const stop = new Int32Array(job.stop);
  const found = searchProofOfWork(
    job.seed,
    job.digest,
    job.start,
    job.end,
    () => Atomics.load(stop, 0) !== 0,
  );
  if (found >= 0) Atomics.store(stop, 0, 1);
  parentPort?.postMessage({ id: job.id, found } satisfies PowReply);
});
