import { Type } from "typebox";
import type { Services } from "../../service/types.js";
import { errorBody } from "../errors.js";
import { AuthHeaders, ErrorResponse } from "../schemas.js";
import type { RequestHook, TypedApp } from "../types.js";

export type InfoDeps = Pick<Services, "version" | "health" | "providers" | "storedLinks"> & {
  /** Run before listing the stored links (`STORED_LINKS`: public, keys or off). */
  storedLinksAccess: RequestHook[];
};

const StoredLinksQuery = Type.Object({
  limit: Type.Optional(Type.String({ maxLength: 12 })),
});

const ENDPOINTS = [
  {
    method: "GET",
    path: "/api/download",
    description: "Download addresses and details of a TikTok post (?url=…).",
  },
  { method: "POST", path: "/api/download", description: "The same, with a JSON or form body." },
  {
    method: "POST",
    path: "/api/download/batch",
    description: "Several links in one request ({urls: [...]}), answered in order.",
  },
  {
    method: "GET",
    path: "/api/list?url=<profile|collection|playlist>[&cursor=&limit=]",
    description: "One page of a creator's posts, a collection or a playlist, newest first.",
  },
  { method: "POST", path: "/api/list", description: "The same, with a JSON body." },
  {
    method: "GET",
    path: "/api/stored-links",
    description: "Canonical links of the cached posts, newest first.",
  },
  { method: "GET", path: "/api/providers", description: "The sources, their parameters and their health." },
  { method: "GET", path: "/api/ping", description: "Liveness." },
  { method: "GET", path: "/api/health", description: "Readiness: the cache store and the sources." },
  {
    method: "GET",
    path: "/api/stream/<token>",
    description: "A file named by result.stream, through this server.",
  },
  { method: "GET", path: "/openapi.json", description: "The OpenAPI 3 document." },
  { method: "GET", path: "/docs", description: "Interactive API documentation." },
];

export function infoRoutes(app: TypedApp, deps: InfoDeps) {
  const meta = (summary: string) => ({ schema: { summary, tags: ["meta"] } });
  app.get("/api", meta("The list of endpoints"), async () => ({
    name: "tiktok-dl",
    version: deps.version,
    apiVersion: 1,
    endpoints: ENDPOINTS,
  }));

  app.get("/api/ping", meta("Liveness"), async () => ({ ok: true }));

  app.get("/api/health", meta("Readiness: the cache store and the sources"), () => deps.health());

  app.get(
    "/api/stored-links",
    {
      schema: {
        summary: "Canonical links of the cached posts, newest first",
        tags: ["cache"],
        querystring: StoredLinksQuery,
        headers: AuthHeaders,
        response: { 200: Type.Array(Type.String()), "4xx": ErrorResponse },
      },
      onRequest: deps.storedLinksAccess,
    },
    async (request, reply) => {
      const raw = request.query.limit;
      const limit = raw === undefined ? 100 : /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(limit >= 1 && limit <= 1000))
        return reply
          .code(400)
          .send(errorBody("INVALID_PARAMETER", 'The "limit" field must be between 1 and 1000.'));
      return deps.storedLinks(limit);
    },
  );

  app.get(
    "/api/providers",
    { schema: { summary: "The sources, their params and their health", tags: ["sources"] } },
    () => deps.providers(),
  );
}
