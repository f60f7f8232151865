/**
 * Two kinds of failure travel through the pipeline:
 * - ApiError: an answer for the user (bad input, or TikTok's own authoritative word on a post).
 *   Rotation stops on it.
 * - SourceFailure: one source could not answer (timeout, block, changed page). Rotation moves on.
 */

export type ApiErrorCode =
  | "MISSING_URL"
  | "INVALID_URL"
  | "UNSUPPORTED_HOST"
  | "UNSUPPORTED_LINK"
  | "INVALID_TYPE"
  | "INVALID_PARAMETER"
  | "INVALID_JSON"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "BODY_TOO_LARGE"
  | "RATE_LIMITED"
  | "NOT_FOUND"
  | "PRIVATE"
  /** A user's tab TikTok shows only to a login (its owner's, or one it was shared with). */
  | "LOGIN_REQUIRED"
  | "AGE_RESTRICTED"
  | "REGION_BLOCKED"
  | "ALL_SOURCES_FAILED"
  | "ROUTE_NOT_FOUND"
  | "URI_TOO_LONG"
  | "HEADERS_TOO_LARGE"
  | "REQUEST_TIMEOUT"
  | "INVALID_REQUEST"
  | "SERVICE_UNAVAILABLE"
  | "STREAM_INVALID"
  | "STREAM_EXPIRED"
  | "STREAM_BUSY"
  | "UPSTREAM_FAILED"
  | "INVALID_API_KEY"
  | "AUTH_REQUIRED"
  | "API_KEY_IP_FORBIDDEN"
  | "API_KEY_SOURCE_FORBIDDEN"
  | "API_KEY_USER_AGENT_FORBIDDEN"
  /** The request's Host is not this instance's known address (links are written only for that). */
  | "HOST_NOT_ALLOWED"
  /** The API key may not make watches (the keys file's `watches`). */
  | "WATCHES_FORBIDDEN"
  /** The key, or the server, keeps as many watches as it may. */
  | "WATCH_LIMIT"
  /** A watch's target that is refused: not https, a private address, a malformed token. */
  | "INVALID_TARGET"
  | "INTERNAL_ERROR";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** TikTok's own word on the post (its page said so): the only answers that may be cached for all. */
    readonly verdict = false,
    /** For a refusal that ends by itself (busy, out of budget): when to try again, in seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** A link that is not a post but leads to a profile, collection or playlist: that list's address. */
  list?: string;
  /** With UNSUPPORTED_HOST: the host the link named, so a face can say it in its own words. */
  host?: string;
}

/** A post was asked for, and the (short) link leads to a list: the answer says which, so a face can list it. */
export function leadsToList(list: string, kind: string): ApiError {
  const error = badRequest(
    "UNSUPPORTED_LINK",
    `This short link leads to a ${kind}: list its posts with /api/list.`,
  );
  error.list = list;
  return error;
}

export const badRequest = (code: ApiErrorCode, message: string) => new ApiError(400, code, message);

/** TikTok's own answers about a post: every source would say the same, so they end the search. */
export const postErrors = {
  notFound: (detail = "TikTok says this post does not exist.") =>
    new ApiError(404, "NOT_FOUND", detail, true),
  private: (detail = "This post is private.") => new ApiError(403, "PRIVATE", detail, true),
  loginRequired: (detail: string) => new ApiError(403, "LOGIN_REQUIRED", detail, true),
  ageRestricted: () =>
    new ApiError(
      403,
      "AGE_RESTRICTED",
      "This post is age-restricted: TikTok shows it only to logged-in adults.",
      true,
    ),
};

/** Post states worth remembering briefly so a flood of bad links does not hammer TikTok. */
export const CACHEABLE_POST_ERRORS: ReadonlySet<ApiErrorCode> = new Set([
  "NOT_FOUND",
  "PRIVATE",
  "AGE_RESTRICTED",
]);

export type FailureReason =
  | "timeout"
  | "network"
  | "http_status"
  | "too_large"
  | "blocked"
  | "bad_response"
  | "invalid_result"
  | "region_blocked"
  | "refused_target"
  | "maintenance"
  /** A third-party site says the post does not exist or is private: rotation goes on (it may be wrong). */
  | "not_found"
  | "private"
  /** Our own code threw (a TypeError in a parser…): a bug, logged with its stack; the rotation goes on. */
  | "bug";

export class SourceFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = "SourceFailure";
  }
}

export const isAbortError = (error: unknown): boolean =>
  error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
