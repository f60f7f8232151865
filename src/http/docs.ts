import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { TypedApp } from "./types.js";

/**
 * The OpenAPI 3 document, built from the very schemas the routes validate with, at /openapi.json,
 * and an interactive page at /docs (Swagger UI, loaded at the first visit: see `docsPage`). Registered
 * before the routes so that it sees them all.
 */
export async function registerDocs(app: TypedApp, version: string) {
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "tiktok-dl",
        version,
        description:
          "Send a TikTok link, get the video without watermark, with watermark, HD, the music, the images of a photo post and the details, plus signed tunnel links to the files.",
      },
      tags: [
        { name: "download", description: "The v1 download API" },
        { name: "stream", description: "The files themselves, through this server" },
        { name: "follow", description: "Feeds of profiles, collections and playlists" },
        { name: "cache", description: "What is cached" },
        { name: "sources", description: "TikTok and the third-party providers" },
        { name: "meta", description: "Liveness and readiness" },
      ],
      components: {
        securitySchemes: {
          apiKey: {
            type: "apiKey",
            in: "header",
            name: "Authorization",
            description:
              "`Api-Key <key>`: a key from the operator's API_KEYS_FILE gets its own limit. Optional unless the server sets API_AUTH_REQUIRED; tunnel links need none.",
          },
        },
      },
      // A key is optional by default: either no security or the key.
      security: [{}, { apiKey: [] }],
    },
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  const page = docsPage(() => app.swagger() as Record<string, unknown>);
  app.get("/docs", { schema: { hide: true } }, page);
  app.get("/docs/*", { schema: { hide: true } }, page);
}

/** Headers of the page's own answers that are the connection's, not the page's. */
const HOP_HEADERS = new Set(["connection", "content-length", "date", "keep-alive", "transfer-encoding"]);

/**
 * Swagger UI's plugin in an app of its own, built at the first /docs request from the document this
 * app serves (@fastify/swagger's static mode), and asked through `inject`: an instance whose /docs
 * nobody opens never loads the UI's modules and files (docs/performance.md, idle memory).
 */
function docsPage(document: () => Record<string, unknown>) {
  let built: Promise<FastifyInstance> | undefined;
  const build = async () => {
    const { default: swaggerUi } = await import("@fastify/swagger-ui");
    const docs = Fastify({ logger: false });
    await docs.register(swagger, { mode: "static", specification: { document: document() as never } });
    await docs.register(swaggerUi, {
      routePrefix: "/docs",
      staticCSP: true,
      // `upgrade-insecure-requests` would make a browser fetch the page's own files over https: on an
      // instance served over plain http on any host but localhost, /docs would be a blank page.
      transformStaticCSP: (header: string) => header.replace(/\s*upgrade-insecure-requests;?/g, ""),
    });
    await docs.ready();
    return docs;
  };
  return async (request: FastifyRequest, reply: FastifyReply) => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    const answer = await (await built).inject({
      method: request.method === "HEAD" ? "HEAD" : "GET",
      url: request.url,
      headers: {
        host: request.headers.host ?? "localhost",
        ...pick(request.headers, ["if-none-match", "if-modified-since", "accept", "accept-encoding"]),
      },
    });
    // Its 404 is this app's, in the API's error shape.
    if (answer.statusCode === 404) return reply.callNotFound();
    for (const [name, value] of Object.entries(answer.headers))
      if (!HOP_HEADERS.has(name) && value !== undefined) reply.header(name, value);
    reply.code(answer.statusCode);
    return answer.rawPayload.length > 0 ? reply.send(answer.rawPayload) : reply.send();
  };
}

function pick(headers: FastifyRequest["headers"], names: string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (typeof value === "string") picked[name] = value;
  }
  return picked;
}
