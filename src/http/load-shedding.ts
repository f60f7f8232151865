import { getHeapStatistics } from "node:v8";
import underPressure from "@fastify/under-pressure";
import { ApiError } from "../domain/errors.js";
import type { Config } from "../service/config.js";
import type { TypedApp } from "./types.js";

/** Liveness, readiness and metrics answer even under load: an orchestrator must see the process. */
const ALWAYS_ANSWERED = new Set(["/api/ping", "/api/health", "/metrics"]);
const RETRY_AFTER_S = 5;

/**
 * Sheds load with @fastify/under-pressure: while the event loop lags more than `maxEventLoopDelayMs`,
 * or the heap holds more than its cap, requests get a 503 `SERVICE_UNAVAILABLE` with Retry-After instead
 * of queueing behind work the process cannot finish in time.
 */
export async function registerLoadShedding(app: TypedApp, config: Config, sampleIntervalMs = 1_000) {
  const heapMb = config.maxHeapUsedMb ?? Math.floor((getHeapStatistics().heap_size_limit * 0.9) / 1024 ** 2);
  if (config.maxEventLoopDelayMs === 0 && heapMb === 0) return;
  await app.register(underPressure, {
    sampleInterval: sampleIntervalMs,
    ...(config.maxEventLoopDelayMs > 0 ? { maxEventLoopDelay: config.maxEventLoopDelayMs } : {}),
    ...(heapMb > 0 ? { maxHeapUsedBytes: heapMb * 1024 ** 2 } : {}),
    pressureHandler: (request, reply) => {
      if (ALWAYS_ANSWERED.has(request.routeOptions.url ?? "")) return;
      reply.header("retry-after", String(RETRY_AFTER_S));
      return Promise.reject(
        new ApiError(503, "SERVICE_UNAVAILABLE", "The server is overloaded; try again in a few seconds."),
      );
    },
  });
}
