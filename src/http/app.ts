import { createServer, type RequestListener } from "node:http";
import type { Socket } from "node:net";
import formBody from "@fastify/formbody";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, LogController } from "fastify";
import type { Config } from "../service/config.js";
import { createServices, type ServiceDeps, type Services } from "../service/services.js";
import { authenticate, clientBudgets, storedLinksGuard } from "./access.js";
import { registerCors } from "./cors.js";
import { registerDocs } from "./docs.js";
import { clientErrorHandler, errorBody, frameworkErrors, installErrorHandlers } from "./errors.js";
import { registerLoadShedding } from "./load-shedding.js";
import { publicOrigin } from "./origin.js";
import { BODY_LIMIT_BYTES, downloadRoutes } from "./routes/download.js";
import { feedRoutes } from "./routes/feed.js";
import { fileRoutes } from "./routes/file.js";
import { infoRoutes } from "./routes/info.js";
import { listRoutes } from "./routes/list.js";
import { metricsRoutes, observeRequests } from "./routes/metrics.js";
import { streamRoutes } from "./routes/stream.js";
import { watchRoutes } from "./routes/watches.js";
import type { TypedApp } from "./types.js";
import { webRoutes } from "./web.js";

/**
 * The HTTP face of the services: routes, error shape, rate limits, docs and the web page. It does not
 * own the services: whoever built them closes them (see `createApp`).
 */
export async function buildApp(services: Services): Promise<TypedApp> {
  const { config } = services;
  const app = Fastify({
    // With logging off, Fastify's own no-op logger: no child logger is made per request.
    ...(services.log.isLevelEnabled("fatal")
      ? { loggerInstance: services.log as FastifyBaseLogger }
      : { logger: false }),
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    // Tunnel tokens are about 75 characters; a longer one still gets the token check's 403, not a 414.
    routerOptions: { maxParamLength: 8192 },
    frameworkErrors,
    clientErrorHandler,
    serverFactory: (handler) => guardedServer(config, handler),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Our own request ids; clients' x-request-id headers are not trusted.
    genReqId: (() => {
      let next = 0;
      return () => (++next).toString(36);
    })(),
  }).withTypeProvider<TypeBoxTypeProvider>();

  logAndDrain(app, services.log.isLevelEnabled("info"));
  observeRequests(app, services.metrics);

  installErrorHandlers(app);
  registerCors(app, config.corsOrigins);
  registerLoadShedding(app, config);
  // Bodies are JSON or a form; anything else is a 415, not a string that fails validation.
  app.removeContentTypeParser("text/plain");
  await app.register(formBody, { bodyLimit: BODY_LIMIT_BYTES });
  await registerDocs(app, services.version);

  const auth = authenticate(services);
  const { downloadLimiter, streamLimiter, spendDownloads } = clientBudgets(services);

  metricsRoutes(app, services.metrics);
  downloadRoutes(app, {
    download: services.download,
    downloadMany: services.downloadMany,
    authenticate: auth,
    rateLimit: downloadLimiter,
    spendDownloads,
    batchMax: config.batchMax,
  });
  listRoutes(app, { listPage: services.listPage, authenticate: auth, rateLimit: downloadLimiter });
  fileRoutes(app, { download: services.download, authenticate: auth, rateLimit: downloadLimiter });
  feedRoutes(app, {
    listPage: services.listPage,
    feedLinks: services.feedLinks,
    authenticate: auth,
    rateLimit: downloadLimiter,
    originOf: publicOrigin(config),
    renderedMaxBytes: config.feedCacheBytes,
  });
  watchRoutes(app, {
    watches: services.watches,
    keyed: services.checkKey !== undefined,
    maxWatches: config.watches.maxPerInstance,
    minIntervalS: config.watches.minIntervalS,
    authenticate: auth,
    rateLimit: downloadLimiter,
    originOf: publicOrigin(config),
  });
  webRoutes(app);
  streamRoutes(app, {
    openFile: services.openFile,
    rateLimit: streamLimiter,
    spendDownloads,
    watchdog: { stallMs: config.streamStallMs, minRate: config.streamMinRate },
  });
  infoRoutes(app, { ...services, storedLinksAccess: storedLinksGuard(config.storedLinks, auth) });
  return app;
}

/**
 * One log line per request (tokens and keys never written), and, while closing, answers that ask clients
 * to drop their keep-alive sockets so the server can stop promptly.
 */
function logAndDrain(app: TypedApp, logRequests: boolean) {
  if (logRequests)
    app.addHook("onResponse", (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          // Tunnel tokens are credentials: never written to logs.
          path: request.url
            .split("?")[0]
            ?.replace(/^\/api\/stream\/.+/, "/api/stream/<token>")
            .slice(0, 200),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          ip: request.ip,
          // The key's name, never the key.
          ...(request.apiKey ? { key: request.apiKey.name } : {}),
        },
        "request",
      );
      done();
    });
  // While closing, answers ask clients to drop keep-alive sockets so the server can stop promptly.
  let draining = false;
  app.addHook("preClose", async () => {
    draining = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (draining) reply.header("connection", "close");
    done(null, payload);
  });
}

/** Services and their HTTP app built together; closing the app closes the services. */
export async function createApp(config: Config, deps: ServiceDeps = {}): Promise<TypedApp> {
  const services = createServices(config, deps);
  try {
    await services.ready();
    const app = await buildApp(services);
    app.addHook("onClose", () => services.close());
    return app;
  } catch (error) {
    await services.close();
    throw error;
  }
}

/**
 * The HTTP server with a deadline on every phase of a request (headers, the whole request, idle
 * keep-alive; checked every second) and a cap on the connections one client address holds at once.
 */
function guardedServer(config: Config, handler: RequestListener) {
  const server = createServer(
    {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
    originFormOnly(handler),
  );
  if (config.maxConnectionsPerClient > 0) {
    const open = new Map<string, number>();
    server.on("connection", (socket: Socket) => {
      const client = socket.remoteAddress ?? "";
      const count = (open.get(client) ?? 0) + 1;
      if (count > config.maxConnectionsPerClient) return socket.destroy();
      open.set(client, count);
      socket.once("close", () => {
        const left = (open.get(client) ?? 1) - 1;
        if (left > 0) open.set(client, left);
        else open.delete(client);
      });
    });
  }
  return server;
}

/**
 * Request targets the router does not understand are answered here, in the API's shape: `*` (RFC 9110's
 * asterisk form, for a server-wide OPTIONS) gets 204 with what the server allows, anything else that is
 * neither a path nor an absolute http(s) address gets a JSON 400. Fastify would route `GET *` to `/`.
 */
function originFormOnly(handler: RequestListener): RequestListener {
  return (request, response) => {
    const target = request.url ?? "";
    if (target.startsWith("/") || /^https?:\/\//i.test(target)) return handler(request, response);
    if (target === "*" && request.method === "OPTIONS") {
      response.writeHead(204, { allow: "GET, HEAD, POST, OPTIONS" }).end();
      return;
    }
    const body = JSON.stringify(
      errorBody("INVALID_REQUEST", "The request target must be a path, like /api/download."),
    );
    response
      .writeHead(400, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      })
      .end(body);
  };
}

/** A number means "trust that many proxy hops", as in Express; Fastify takes it as a function. */
function trustProxyOption(value: Config["trustProxy"]) {
  if (typeof value !== "number") return value;
  return (_address: string, hop: number) => hop < value;
}
