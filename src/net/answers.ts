import { isAbortError, SourceFailure } from "../domain/errors.js";
import { networkReason } from "./proxy-label.js";

/** Transport errors that mean "no answer in time", whichever client raised them. */
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * What a failed upstream request means for its source, for both HTTP clients (undici's errors carry a
 * `code`, impit's a class name): a timeout, a target refused by the address guard, a proxy that failed,
 * or a network failure in plain words. The caller's own abort is passed on as it is.
 */
export function transportFailure(
  error: unknown,
  url: URL,
  timeoutMs: number,
  callerSignal?: AbortSignal,
  via = "",
): unknown {
  if (error instanceof SourceFailure) return error;
  if (callerSignal?.aborted) return callerSignal.reason ?? error;
  const code = (error as { code?: unknown })?.code;
  const name = (error as Error)?.constructor?.name ?? "";
  if (isAbortError(error) || (typeof code === "string" && TIMEOUT_CODES.has(code)) || /Timeout/.test(name))
    return new SourceFailure("timeout", `${url.host} did not answer${via} within ${timeoutMs} ms`);
  if (code === "EREFUSED_PRIVATE") return new SourceFailure("refused_target", (error as Error).message);
  if (/Proxy/.test(name))
    return new SourceFailure("network", `${url.host} could not be reached${via}: the proxy failed (${name})`);
  return new SourceFailure("network", `${url.host} could not be reached${via} (${networkReason(error)})`);
}

/**
 * An answer's body read whole, within `maxBytes`: a declared length over the cap is refused before any
 * byte is read, a body that runs over it as soon as it does (`stop` then ends the transfer). For both
 * HTTP clients: undici's body (decoded by the caller) and impit's web stream are both async iterables.
 */
export async function readCapped(
  body: AsyncIterable<Uint8Array>,
  { declared, maxBytes, stop }: { declared: number; maxBytes: number; stop: () => unknown },
): Promise<Buffer> {
  if (Number.isFinite(declared) && declared > maxBytes) {
    await stop();
    throw new SourceFailure("too_large", `answer of ${declared} bytes is over the ${maxBytes}-byte cap`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      await stop();
      throw new SourceFailure("too_large", `answer is over the ${maxBytes}-byte cap`);
    }
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
