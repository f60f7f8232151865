import type { FastifyReply, FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import { ApiError, badRequest } from "../../domain/errors.js";
import { MAX_LINK_LENGTH } from "../../domain/links.js";
import { type DownloadRequest, downloadRequest } from "../../domain/requests.js";
import type { Services } from "../../service/types.js";
import { keyedAndLimited, rateLimited } from "../access.js";
import { askerOf } from "../asker.js";
import { AuthHeaders, DownloadResponse, DownloadResult, ErrorResponse } from "../schemas.js";
import type { RequestHook, SpendDownloads, TypedApp } from "../types.js";

const ERROR_RESPONSES = { 200: DownloadResponse, "4xx": ErrorResponse, "5xx": ErrorResponse };

export const BODY_LIMIT_BYTES = 16 * 1024;

const FLAG_VALUES = { true: ["1", "true", "yes"], false: ["", "0", "false", "no"] };

export const Flag = Type.Union([Type.Boolean(), Type.String({ maxLength: 16 })]);

const DownloadQuery = Type.Object({
  url: Type.String({
    maxLength: MAX_LINK_LENGTH * 2,
    description: "Any TikTok post link: long, short, photo, with tracking junk.",
  }),
  type: Type.Optional(
    Type.String({ maxLength: 64, description: 'A source name from /api/providers, or "random" (default).' }),
  ),
  nocache: Type.Optional(
    Type.String({
      maxLength: 16,
      description: "1/true/yes: skip reading the cache (it is still refreshed).",
    }),
  ),
  rotateOnError: Type.Optional(
    Type.String({
      maxLength: 16,
      description: "0/false/no: when the named source fails, do not try others (default true).",
    }),
  ),
});

const DownloadBody = Type.Object({
  url: Type.String({ maxLength: MAX_LINK_LENGTH * 2 }),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  nocache: Type.Optional(Flag),
  rotateOnError: Type.Optional(Flag),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** What either form of the request carries, before its flags and source are checked. */
type RawDownload = Static<typeof DownloadQuery> | Static<typeof DownloadBody>;

/**
 * An answer is sent as bytes (`answerBytes`), so only error bodies are serialized here: with plain
 * JSON.stringify, as the response schemas are for documentation and no serializer is compiled for them.
 */
const serializerCompiler = () => (data: unknown) => JSON.stringify(data);

/**
 * A cache hit hands back the same result object each time, so its answer's bytes are kept beside it:
 * encoded to UTF-8 once, not measured and encoded again for every hit (one emoji in a description
 * makes the whole text two-byte, and that work was a third of a hit's cost).
 */
function answerBytes() {
  const encoded = new WeakMap<object, Buffer>();
  return (result: object) => {
    let bytes = encoded.get(result);
    if (bytes === undefined) {
      bytes = Buffer.from(`{"result":${JSON.stringify(result)}}`);
      encoded.set(result, bytes);
    }
    return bytes;
  };
}

/** "1"/"true"/"yes" or ""/"0"/"false"/"no", any case; JSON bodies may also send real booleans. */
export function parseFlag(field: string, value: string | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  const word = value.trim().toLowerCase();
  if (FLAG_VALUES.true.includes(word)) return true;
  if (FLAG_VALUES.false.includes(word)) return false;
  throw badRequest("INVALID_PARAMETER", `The "${field}" field must be true or false (1/0, yes/no).`);
}

export interface DownloadRouteDeps {
  download: Services["download"];
  downloadMany: Services["downloadMany"];
  /** The API key check (absent without a keys file). */
  authenticate?: RequestHook;
  /** The per-client limiter of single downloads (a batch spends one per link instead). */
  rateLimit: RequestHook;
  /** Spends downloads from a request's budget: how many of `amount` it may make (batches count each link). */
  spendDownloads: SpendDownloads;
  /** Links one batch may carry. */
  batchMax: number;
}

export function downloadRoutes(app: TypedApp, deps: DownloadRouteDeps) {
  /** The API calls the source `type` (v1); the service checks it and the params. */
  const normalise = (raw: RawDownload, request: FastifyRequest): DownloadRequest =>
    downloadRequest(
      raw.url,
      {
        source: raw.type?.trim() || "random",
        nocache: parseFlag("nocache", raw.nocache, false),
        rotateOnError: parseFlag("rotateOnError", raw.rotateOnError, true),
        params: ("params" in raw ? raw.params : undefined) ?? {},
      },
      askerOf(request),
    );

  const keyCheck = keyedAndLimited(deps.authenticate);
  const onRequest = keyedAndLimited(deps.authenticate, deps.rateLimit);
  const answer = answerBytes();
  const send = (reply: FastifyReply, result: object) =>
    reply.type("application/json; charset=utf-8").send(answer(result));

  app.get(
    "/api/download",
    {
      schema: {
        summary: "A post's files and details, from any TikTok link",
        tags: ["download"],
        querystring: DownloadQuery,
        headers: AuthHeaders,
        response: { 200: DownloadResponse },
      },
      serializerCompiler,
      onRequest,
    },
    async (request, reply) => send(reply, await deps.download(normalise(request.query, request))),
  );

  app.post(
    "/api/download",
    {
      schema: {
        summary: "The same, with a JSON or urlencoded form body",
        tags: ["download"],
        body: DownloadBody,
        headers: AuthHeaders,
        response: ERROR_RESPONSES,
      },
      serializerCompiler,
      onRequest,
      // A POST without a body is a request without a url, not a malformed one.
      preValidation: async (request) => {
        request.body ??= {} as Static<typeof DownloadBody>;
      },
    },
    async (request, reply) => send(reply, await deps.download(normalise(request.body, request))),
  );
  batchRoute(app, deps, keyCheck, normalise);
}

/** POST /api/download/batch: each link its own row, each counted against the caller's budget. */
function batchRoute(
  app: TypedApp,
  deps: DownloadRouteDeps,
  keyCheck: RequestHook[],
  normalise: (raw: RawDownload, request: FastifyRequest) => DownloadRequest,
) {
  app.post(
    "/api/download/batch",
    {
      schema: {
        summary: `Several posts in one request (at most ${deps.batchMax}), answered in order`,
        description:
          "Each link counts against the caller's rate limit; links past it get their own 429 row. A bad link fails its own row, not the batch.",
        tags: ["download"],
        body: BatchBody,
        headers: AuthHeaders,
        response: { 200: BatchResponse, "4xx": ErrorResponse, "5xx": ErrorResponse },
      },
      // The key check only: each link is counted below.
      onRequest: keyCheck,
      // Room for BATCH_MAX links of the longest kind accepted (a pasted message each), beside the options.
      bodyLimit: BODY_LIMIT_BYTES + deps.batchMax * (MAX_LINK_LENGTH * 2 + 16),
    },
    async (request, reply) => {
      const { urls, ...shared } = request.body;
      if (urls.length > deps.batchMax)
        throw badRequest("INVALID_PARAMETER", `The "urls" field may hold at most ${deps.batchMax} links.`);
      const budget = await deps.spendDownloads(request, urls.length);
      if (budget.granted < urls.length) reply.header("retry-after", String(budget.retryAfterS));
      if (budget.granted === 0) throw rateLimited(budget.retryAfterS * 1000);
      // Each row is checked on its own: a bad link (or one past the budget) fails its row, not the batch.
      const rows = urls.map(
        (url, index): { url: string; request: DownloadRequest } | { url: string; error: unknown } => {
          try {
            if (index >= budget.granted) throw rateLimited(budget.retryAfterS * 1000);
            if (url.length > MAX_LINK_LENGTH * 2)
              throw badRequest("INVALID_URL", `The link is longer than ${MAX_LINK_LENGTH * 2} characters.`);
            return { url, request: normalise({ ...shared, url }, request) };
          } catch (error) {
            return { url, error };
          }
        },
      );
      const valid = rows.flatMap((row) => ("request" in row ? [row.request] : []));
      const settled = await deps.downloadMany(valid, BATCH_CONCURRENCY);
      let next = 0;
      const results = rows.map((row) => {
        if (!("request" in row)) return errorRow(row.url, row.error, request);
        const outcome = settled[next++];
        if (!outcome) return errorRow(row.url, new Error("a batch row has no outcome"), request);
        return outcome.ok
          ? { url: row.url, result: outcome.value }
          : errorRow(row.url, outcome.error, request);
      });
      return { results };
    },
  );
}

/** Links of one batch extracted at once; the rest wait (the pipeline's single flight is shared). */
const BATCH_CONCURRENCY = 4;

const BatchBody = Type.Object({
  // No length bound per link here: an over-long link fails its own row (the body limit bounds them all).
  urls: Type.Array(Type.String(), { minItems: 1, maxItems: 1_000 }),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  nocache: Type.Optional(Flag),
  rotateOnError: Type.Optional(Flag),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const BatchResponse = Type.Object({
  results: Type.Array(
    Type.Union([
      Type.Object({ url: Type.String(), result: DownloadResult }),
      Type.Object({ url: Type.String(), error: Type.String(), code: Type.String(), status: Type.Integer() }),
    ]),
  ),
});

/** One link's failure as its row: the API's error, or an internal error logged here (never its stack). */
function errorRow(url: string, error: unknown, request: FastifyRequest) {
  if (error instanceof ApiError) return { url, error: error.message, code: error.code, status: error.status };
  request.log.error({ err: error }, "unexpected error in a batch row");
  return { url, error: "Something went wrong on our side.", code: "INTERNAL_ERROR", status: 500 };
}
