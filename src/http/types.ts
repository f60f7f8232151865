import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";

/** The app as routes see it: request types come from the TypeBox schemas the routes declare. */
export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A per-route hook such as a rate limiter. */
export type RequestHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Spends downloads from a request's budget (its API key's, or its address's): how many of `amount` it may make. */
export type SpendDownloads = (
  request: FastifyRequest,
  amount: number,
) => Promise<{ granted: number; retryAfterS: number }>;
