import type { FastifyRequest } from "fastify";
import type { Asker } from "../domain/requests.js";

/** Who asks over HTTP: what the request's API key allows (nothing of the operator's login without one). */
export function askerOf(request: Pick<FastifyRequest, "apiKey">): Asker {
  const key = request.apiKey;
  return {
    ...(key?.sources ? { allowedSources: key.sources } : {}),
    ...(key?.readsViaLogin ? { readsViaLogin: true } : {}),
  };
}
