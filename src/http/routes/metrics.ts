import type { Metrics } from "../../service/metrics.js";
import type { TypedApp } from "../types.js";

/** Request durations by route, and the registry's text at /metrics (for the operator's monitoring). */
export function metricsRoutes(app: TypedApp, metrics: Metrics) {
  app.addHook("onResponse", (request, reply, done) => {
    metrics.requests.observe(
      {
        route: request.routeOptions.url ?? "unknown",
        method: request.method,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
