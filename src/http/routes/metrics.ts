import type { FastifyReply, FastifyRequest } from "fastify";
import type { Metrics } from "../../service/types.js";
import type { TypedApp } from "../types.js";

type Series = ReturnType<Metrics["requests"]["labels"]>;
type Observer = (request: FastifyRequest, reply: FastifyReply, done: () => void) => void;

/**
 * Request durations by route, method and status. Each route gets its own observing hook when it is
 * declared, its path known then, so a request only picks its method and status's series (no route
 * options read, no label object hashed to find it). Requests no route matched count as route "unknown".
 * Call before any route is declared.
 */
export function observeRequests(app: TypedApp, metrics: Metrics) {
  const observer = (route: string): Observer => {
    const series = new Map<string, Series>();
    return (request, reply, done) => {
      const key = `${request.method}${reply.statusCode}`;
      let child = series.get(key);
      if (!child) {
        child = metrics.requests.labels({ route, method: request.method, status: String(reply.statusCode) });
        series.set(key, child);
      }
      child.observe(reply.elapsedTime / 1000);
      done();
    };
  };
  app.addHook("onRoute", (route) => {
    route.onResponse = [route.onResponse ?? []].flat().concat(observer(route.url));
  });
  const notFound = observer("unknown");
  app.addHook("onResponse", (request, reply, done) =>
    request.is404 ? notFound(request, reply, done) : done(),
  );
}

/** The registry's text at /metrics, for the operator's monitoring. */
export function metricsRoutes(app: TypedApp, metrics: Metrics) {
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
