import type { Metrics } from "../../service/types.js";
import type { TypedApp } from "../types.js";

/** Request durations by route, and the registry's text at /metrics (for the operator's monitoring). */
export function metricsRoutes(app: TypedApp, metrics: Metrics) {
  // One labelled child per route, method and status, found by a string key rather than by hashing a
  // label object on every request.
  const series = new Map<string, ReturnType<Metrics["requests"]["labels"]>>();
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unknown";
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = series.get(key);
    if (!child) {
      child = metrics.requests.labels({ route, method: request.method, status: String(reply.statusCode) });
      series.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
