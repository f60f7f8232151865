import { Type } from "typebox";
import { ApiError } from "../../domain/errors.js";
import type { OpenedFile, Services } from "../../service/types.js";
import { clientGone } from "../client-gone.js";
import { type WatchdogLimits, watchTunnel } from "../tunnel-watchdog.js";
import type { RequestHook, SpendDownloads, TypedApp } from "../types.js";

export interface StreamRouteDeps {
  openFile: Services["openFile"];
  rateLimit?: RequestHook;
  /** Charges an extraction made for a tunnel to the client's download budget. */
  spendDownloads: SpendDownloads;
  /** When a client that holds a tunnel without reading is cut. */
  watchdog: WatchdogLimits;
}

const StreamParams = Type.Object({
  token: Type.String({ maxLength: 8192, description: "From result.stream of /api/download." }),
});

/**
 * GET/HEAD /api/stream/<token>: the file itself (the openFile use case). The route owns what is about
 * HTTP: the rate limit, the download budget, the headers, and cutting a client that stops reading.
 */
export function streamRoutes(app: TypedApp, deps: StreamRouteDeps) {
  app.route({
    method: ["GET", "HEAD"],
    url: "/api/stream/:token",
    schema: {
      summary: "The file a stream link names (Range and HEAD work)",
      tags: ["stream"],
      params: StreamParams,
    },
    onRequest: deps.rateLimit ? [deps.rateLimit] : [],
    async handler(request, reply) {
      // The client went away before the end: stop reading from the media host.
      const gone = clientGone(reply);
      const range = request.headers.range;
      let relayed: OpenedFile;
      try {
        relayed = await deps.openFile({
          token: request.params.token,
          method: request.method === "HEAD" ? "HEAD" : "GET",
          range: typeof range === "string" ? range : undefined,
          client: request.ip,
          signal: gone,
          beforeExtraction: async () => {
            const { granted, retryAfterS: wait } = await deps.spendDownloads(request, 1);
            if (granted === 1) return;
            throw new ApiError(
              429,
              "RATE_LIMITED",
              `This link needs the post extracted again and your download budget is spent; try again in ${wait} s.`,
              false,
              wait,
            );
          },
        });
      } catch (error) {
        // The client left before the media host answered: nothing to answer, and not an error.
        if (!gone.aborted) throw error;
        request.log.debug("tunnel client left before the media host answered");
        reply.hijack();
        reply.raw.destroy();
        return reply;
      }
      // The slot is held until the answer is over (or at once, if the client has already left).
      if (gone.aborted) relayed.release();
      else reply.raw.once("close", relayed.release);
      reply.code(relayed.status).header("content-type", relayed.type).headers(relayed.headers);
      reply.header("content-disposition", contentDisposition(relayed.filename));
      reply.header("cache-control", "private, no-store");
      reply.header("x-content-type-options", "nosniff");
      if (request.method === "HEAD") return reply.send();
      watchTunnel(reply.raw, deps.watchdog, (why) =>
        request.log.info({ why }, "tunnel cut: its client reads too slowly"),
      );
      // The upstream's failure is the media host's doing, logged as such (the client's leaving is not).
      relayed.body.once("error", (error: Error) => {
        if (!gone.aborted) request.log.warn({ detail: error.message }, "tunnel cut: the media host failed");
      });
      return reply.send(relayed.body);
    },
  });
}

function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
