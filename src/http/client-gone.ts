import type { FastifyReply } from "fastify";

/** A signal that aborts when the client goes away before its answer is written whole. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) abort.abort(new DOMException("the client went away", "AbortError"));
  });
  return abort.signal;
}
