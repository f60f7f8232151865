import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one app instance (its own registry: no global state). */
export function createMetrics(read: {
  activeTunnels: () => number;
  proxies: () => { proxy: string; pool: string; state: string }[];
}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tiktokdl_" });
  const requests = new Histogram({
    name: "tiktokdl_http_request_duration_seconds",
    help: "HTTP requests by route, method and status.",
    labelNames: ["route", "method", "status"] as const,
    buckets: [0.005, 0.02, 0.1, 0.5, 1, 3, 10, 30],
    registers: [registry],
  });
  const attempts = new Counter({
    name: "tiktokdl_source_attempts_total",
    help: "Extraction attempts by source and outcome (ok, or the failure reason).",
    labelNames: ["source", "outcome"] as const,
    registers: [registry],
  });
  const cache = new Counter({
    name: "tiktokdl_cache_lookups_total",
    help: "Cache lookups of /api/download by result (hit, miss).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "tiktokdl_tunnels_active",
    help: "Tunnels relaying a file right now.",
    registers: [registry],
    collect() {
      this.set(read.activeTunnels());
    },
  });
  new Gauge({
    name: "tiktokdl_proxy_up",
    help: "Egress proxies: 1 in use, 0 resting after a failure or a block (labelled without credentials).",
    labelNames: ["proxy", "pool"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const proxy of read.proxies())
        this.set({ proxy: proxy.proxy, pool: proxy.pool }, proxy.state === "ok" ? 1 : 0);
    },
  });
  return { registry, requests, attempts, cache, watches: watchMetrics(registry) };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** What watches count: their number and queue (read when scraped), checks, deliveries, time to delivery. */
function watchMetrics(registry: Registry) {
  let read: () => Promise<{ watches: number; depth: number; oldestAgeS: number }> = async () => ({
    watches: 0,
    depth: 0,
    oldestAgeS: 0,
  });
  const gauge = (name: string, help: string, pick: (state: Awaited<ReturnType<typeof read>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(pick(await read()));
      },
    });
  gauge("tiktokdl_watches", "Watches kept.", (state) => state.watches);
  gauge("tiktokdl_watch_queue_depth", "Deliveries still to make.", (state) => state.depth);
  gauge(
    "tiktokdl_watch_oldest_pending_seconds",
    "Age of the oldest delivery still to make.",
    (state) => state.oldestAgeS,
  );
  return {
    /** Where the gauges read the watches' state (set by the watches use case). */
    readFrom(source: typeof read) {
      read = source;
    },
    checks: new Counter({
      name: "tiktokdl_watch_checks_total",
      help: "Checks of watched lists by outcome (ok, failed, unavailable).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "tiktokdl_watch_deliveries_total",
      help: "Delivery attempts by outcome (delivered, retry, failed, gone).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    delay: new Histogram({
      name: "tiktokdl_watch_delivery_delay_seconds",
      help: "From a post being seen to its event delivered.",
      buckets: [1, 5, 15, 60, 300, 1800, 7200, 36000],
      registers: [registry],
    }),
  };
}

export type WatchMetrics = ReturnType<typeof watchMetrics>;
