import { ApiError, badRequest } from "../domain/errors.js";
import type { DownloadRequest } from "../domain/requests.js";
import type { ParamSpec, Source } from "../sources/types.js";

/**
 * The source a request names and the parameters it passes, checked against the sources here: a name that
 * is not a source, a source the operator left out, or a parameter no source declares is the client's
 * mistake (400), told in words, before any upstream request.
 */
export function checkDownloadRequest(
  request: DownloadRequest,
  sources: readonly Source[],
  isEnabled: (name: string) => boolean,
): void {
  const name = request.source;
  const source = sources.find((candidate) => candidate.name === name);
  if (name !== "random" && !source)
    throw badRequest(
      "INVALID_TYPE",
      `The "type" field must be "random" or one of: ${namesOf(sources, isEnabled)}; "${name.slice(0, 64)}" is not a source.`,
    );
  if (source && !isEnabled(source.name))
    throw badRequest(
      "INVALID_TYPE",
      `The "${source.name}" source is disabled on this instance; use "random" or one of: ${namesOf(sources, isEnabled)}.`,
    );
  if (source) checkParams(request.params, source.params, `the "${source.name}" source`);
  // With "random", only the params given are checked (none is required): none given, nothing to check.
  else if (hasAny(request.params))
    checkParams(
      request.params,
      sources.flatMap((candidate) => candidate.params).filter((spec) => !spec.required),
      "any source",
    );
  checkAllowedSource(request);
}

/** A key limited to some sources may not name another (403); with "random" it rotates among its own. */
export function checkAllowedSource(request: Pick<DownloadRequest, "source" | "allowedSources">): void {
  const allowed = request.allowedSources;
  if (!allowed) return;
  if (allowed.length === 0)
    throw new ApiError(
      403,
      "API_KEY_SOURCE_FORBIDDEN",
      "This API key may not use this service (allowedServices).",
    );
  if (request.source !== "random" && !allowed.includes(request.source))
    throw new ApiError(
      403,
      "API_KEY_SOURCE_FORBIDDEN",
      `This API key may use only these sources: ${allowed.join(", ")}.`,
    );
}

const namesOf = (sources: readonly Source[], isEnabled: (name: string) => boolean) =>
  sources
    .map((source) => source.name)
    .filter(isEnabled)
    .join(", ");

function hasAny(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
}

/** `params` must fit the named source's declared params; with "random" each must fit some source. */
function checkParams(params: Record<string, unknown>, specs: readonly ParamSpec[], sourceLabel: string) {
  for (const [name, value] of Object.entries(params)) {
    const spec = specs.find((candidate) => candidate.name === name);
    if (!spec)
      throw badRequest(
        "INVALID_PARAMETER",
        `The "params.${name}" field is not a parameter of ${sourceLabel}.`,
      );
    if (typeof value !== spec.type)
      throw badRequest("INVALID_PARAMETER", `The "params.${name}" field must be a ${spec.type}.`);
  }
  for (const spec of specs) {
    if (spec.required && !(spec.name in params))
      throw badRequest("INVALID_PARAMETER", `The "params.${spec.name}" field is required by ${sourceLabel}.`);
  }
}
