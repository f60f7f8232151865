import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypedApp } from "./types.js";

/**
 * The OpenAPI 3 document, built from the very schemas the routes validate with, at /openapi.json,
 * and an interactive page at /docs. Registered before the routes so that it sees them all.
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
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    // `upgrade-insecure-requests` would make a browser fetch the page's own files over https: on an
    // instance served over plain http on any host but localhost, /docs would be a blank page.
    transformStaticCSP: (header: string) => header.replace(/\s*upgrade-insecure-requests;?/g, ""),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
