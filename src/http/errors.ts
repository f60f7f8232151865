import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError, type ApiErrorCode } from "../domain/errors.js";
import type { TypedApp } from "./types.js";

/** What a field may be, as facts a face can put in its own words: its name, its values or its range. */
export interface FieldFacts {
  field: string;
  values?: string[];
  min?: number;
  max?: number;
}

/**
 * The one error shape of the API: `{"error": "human sentence", "code": "MACHINE_CODE"}`, with the facts
 * behind it where a face may want them (`list`, a field's allowed values).
 */
export function errorBody(
  code: ApiErrorCode,
  message: string,
  list?: string,
  facts?: FieldFacts | { host: string },
) {
  return { error: message, code, ...(list ? { list } : {}), ...facts };
}

const FIELD_CODES: Record<string, ApiErrorCode> = { url: "INVALID_URL", type: "INVALID_TYPE" };

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  boolean: "a boolean",
  object: "an object",
  number: "a number",
  integer: "an integer",
};

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A field's schema, as far as its allowed values go (TypeBox's literals and numbers). */
interface FieldSchema {
  anyOf?: FieldSchema[];
  const?: unknown;
  type?: string;
  minimum?: number;
  maximum?: number;
}

/** What a field's schema allows: its literals, or its whole-number range, if it says. */
export function allowedValues(
  schema: FieldSchema | undefined,
): { words: string; facts: Omit<FieldFacts, "field"> } | undefined {
  const options = schema?.anyOf ?? (schema ? [schema] : []);
  const values = options.filter((option) => option.const !== undefined).map((option) => String(option.const));
  if (values.length > 0 && values.length === options.length)
    return { words: `one of ${values.join(", ")}`, facts: { values } };
  const range = options.find(
    (option) => option.type === "integer" && option.minimum !== undefined && option.maximum !== undefined,
  );
  if (range?.minimum === undefined || range.maximum === undefined) return undefined;
  return {
    words: `a whole number between ${range.minimum} and ${range.maximum}`,
    facts: { min: range.minimum, max: range.maximum },
  };
}

/**
 * Turns a schema failure into a sentence that names the field and, where its schema says, what it may
 * be (`fieldSchema`: that field's schema, when the route has one).
 */
export function describeValidation(
  issue: ValidationIssue,
  part: string | undefined,
  fieldSchema?: FieldSchema,
): { code: ApiErrorCode; message: string; facts?: FieldFacts } {
  const path = issue.instancePath.replace(/^\//, "").replaceAll("/", ".");
  const field = issue.keyword === "required" ? String(issue.params.missingProperty) : path;
  if (field === "") {
    const where = part === "body" ? "The request body" : "The query string";
    return { code: "INVALID_PARAMETER", message: `${where} must be ${TYPE_WORDS.object}.` };
  }
  if (issue.keyword === "required") {
    if (field === "url") return { code: "MISSING_URL", message: 'The "url" field is required.' };
    return { code: "INVALID_PARAMETER", message: `The "${field}" field is required.` };
  }
  const code = FIELD_CODES[field] ?? "INVALID_PARAMETER";
  const allowed = allowedValues(fieldSchema);
  if (allowed && issue.keyword !== "maxLength" && issue.keyword !== "additionalProperties")
    return {
      code,
      message: `The "${field}" field must be ${allowed.words}.`,
      facts: { field, ...allowed.facts },
    };
  if (issue.keyword === "type") {
    const expected = String(issue.params.type)
      .split(",")
      .map((type) => TYPE_WORDS[type] ?? type)
      .join(" or ");
    return { code, message: `The "${field}" field must be ${expected}.` };
  }
  if (issue.keyword === "maxLength")
    return { code, message: `The "${field}" field is longer than ${issue.params.limit} characters.` };
  if (issue.keyword === "additionalProperties")
    return {
      code: "INVALID_PARAMETER",
      message: `The "${field ? `${field}.` : ""}${issue.params.additionalProperty}" field is not known.`,
    };
  return { code, message: `The "${field}" field ${issue.message ?? "is invalid"}.` };
}

const FASTIFY_CODES: Record<string, { status: number; code: ApiErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: "BODY_TOO_LARGE",
    message: "The request body is over 16 KiB.",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: "Send the body as application/json or application/x-www-form-urlencoded.",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "INVALID_JSON", message: "The JSON body is empty." },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: "INVALID_JSON",
    message: "The body is not valid JSON.",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: "INVALID_PARAMETER",
    message: "The Content-Length header does not match the body.",
  },
};

/**
 * Requests Node itself refuses before Fastify sees them (headers too large, an unparseable request, a
 * request that took too long to arrive) get the API's error shape too, then the socket is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message]: [number, ApiErrorCode, string] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "HEADERS_TOO_LARGE", "The request headers are too large."]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "REQUEST_TIMEOUT", "The request took too long to arrive."]
        : [400, "INVALID_REQUEST", "The request is not valid HTTP."];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/** Errors the router raises before any route runs (bad percent-encoding, over-long parameters). */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH")
    return reply.code(414).send(errorBody("URI_TOO_LONG", "The address is too long."));
  return reply.code(400).send(errorBody("INVALID_PARAMETER", "The address is not valid."));
}

/** The schema of the field an issue is about, from the route's own schema for that part of the request. */
function fieldSchemaOf(
  request: FastifyRequest,
  part: string | undefined,
  issue: ValidationIssue,
): FieldSchema | undefined {
  const schemas = request.routeOptions.schema as Record<string, unknown> | undefined;
  const partSchema = part
    ? (schemas?.[part] as { properties?: Record<string, FieldSchema> } | undefined)
    : undefined;
  const field = issue.instancePath.replace(/^\//, "").split("/")[0] ?? "";
  return field ? partSchema?.properties?.[field] : undefined;
}

/** The request's connection is gone (the client disconnected before its answer). */
const clientLeft = (request: FastifyRequest) =>
  request.raw.destroyed || request.raw.socket?.destroyed === true || request.raw.aborted;

/** Every error leaves as JSON with a code; a stack trace never does. */
export function installErrorHandlers(app: TypedApp): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      if (error.status >= 500)
        request.log.warn({ code: error.code, detail: error.message }, "request failed");
      if (error.retryAfterS !== undefined) reply.header("retry-after", String(error.retryAfterS));
      return reply
        .code(error.status)
        .send(
          errorBody(error.code, error.message, error.list, error.host ? { host: error.host } : undefined),
        );
    }
    if (error.validation?.[0]) {
      const issue = error.validation[0] as ValidationIssue;
      const { code, message, facts } = describeValidation(
        issue,
        error.validationContext,
        fieldSchemaOf(request, error.validationContext, issue),
      );
      return reply.code(400).send(errorBody(code, message, undefined, facts));
    }
    const known = FASTIFY_CODES[error.code];
    if (known) return reply.code(known.status).send(errorBody(known.code, known.message));
    if (error instanceof SyntaxError || error.statusCode === 400) {
      return reply.code(400).send(errorBody("INVALID_JSON", "The body is not valid JSON."));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorBody("INVALID_PARAMETER", "The request is not valid."));
    }
    if (clientLeft(request)) {
      // Not our fault: the client went away and its request's work was called off.
      request.log.info({ detail: error.message }, "the client went away before its answer");
      return reply.code(499).send(errorBody("REQUEST_TIMEOUT", "The client closed the request."));
    }
    request.log.error({ err: error }, "unexpected error");
    return reply.code(500).send(errorBody("INTERNAL_ERROR", "Something went wrong on our side."));
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        errorBody(
          "ROUTE_NOT_FOUND",
          `There is no ${request.method} ${request.url.split("?")[0]?.slice(0, 200)} endpoint; see GET /api.`,
        ),
      );
  });
}
