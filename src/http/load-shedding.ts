import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { ApiError } from "../domain/errors.js";
import type { Config } from "../service/config.js";
import type { TypedApp } from "./types.js";

/** Liveness, readiness and metrics answer even under load: an orchestrator must see the process. */
const ALWAYS_ANSWERED = new Set(["/api/ping", "/api/health", "/metrics"]);
const RETRY_AFTER_S = 5;
/** The delay histogram's resolution: a calm loop's samples read about this much. */
const RESOLUTION_MS = 10;

/** What the service holds at rest is a few hundred MiB at most: a heap past this is a flood, well before V8's limit. */
const DEFAULT_HEAP_CAP_MB = 1024;

/** The heap cap when none is set: 1 GiB, or three quarters of V8's heap limit when that is smaller. */
export const defaultHeapCapMb = (heapLimitBytes: number) =>
  Math.min(DEFAULT_HEAP_CAP_MB, Math.floor((heapLimitBytes * 0.75) / 1024 ** 2));

/**
 * Sheds load: while the event loop lags more than `maxEventLoopDelayMs` (its mean delay over the last
 * sample), or the heap holds more than its cap, requests get a 503 `SERVICE_UNAVAILABLE` with Retry-After
 * instead of queueing behind work the process cannot finish in time. The state is sampled on a timer (as
 * @fastify/under-pressure does), so a request only reads a flag.
 */
export function registerLoadShedding(app: TypedApp, config: Config, sampleIntervalMs = 1_000) {
  const heapMb = config.maxHeapUsedMb ?? defaultHeapCapMb(getHeapStatistics().heap_size_limit);
  const maxDelayMs = config.maxEventLoopDelayMs;
  if (maxDelayMs === 0 && heapMb === 0) return;
  const delays = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delays.enable();
  let overloaded = false;
  const sample = setInterval(() => {
    const lagMs = Math.max(0, delays.mean / 1e6 - RESOLUTION_MS);
    delays.reset();
    overloaded =
      (maxDelayMs > 0 && (Number.isNaN(lagMs) || lagMs > maxDelayMs)) ||
      (heapMb > 0 && process.memoryUsage().heapUsed > heapMb * 1024 ** 2);
  }, sampleIntervalMs);
  sample.unref();
  app.addHook("onClose", async () => {
    clearInterval(sample);
    delays.disable();
  });
  app.addHook("onRequest", (request, reply, done) => {
    if (!overloaded || ALWAYS_ANSWERED.has(request.url.split("?", 1)[0] ?? "")) return done();
    reply.header("retry-after", String(RETRY_AFTER_S));
    done(new ApiError(503, "SERVICE_UNAVAILABLE", "The server is overloaded; try again in a few seconds."));
  });
}
