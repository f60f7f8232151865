/** `http://user:secret@host:8080` → `http://host:8080`: a proxy is named without its credentials. */
export function proxyLabel(proxyUrl: string): string {
  const url = new URL(proxyUrl);
  return `${url.protocol}//${url.host}`;
}

/** How a failure names the way it went: " through the proxy http://host:8080", or nothing when direct. */
export const throughProxy = (proxyUrl: string | undefined) =>
  proxyUrl ? ` through the proxy ${proxyLabel(proxyUrl)}` : "";

/**
 * Why a connection failed, in words a person can act on, from whatever the client library threw (undici's
 * codes, impit's messages): never a bare class name like "Error".
 */
export function networkReason(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const text = `${typeof code === "string" ? code : ""} ${(error as Error)?.message ?? String(error)}`;
  if (/ENOTFOUND|EAI_AGAIN|dns error|Name or service not known|failed to lookup/i.test(text))
    return "its address could not be looked up: no internet, or no DNS";
  if (/ECONNREFUSED|Connection refused/i.test(text)) return "the connection was refused";
  if (/ECONNRESET|reset by peer|UND_ERR_SOCKET|closed/i.test(text)) return "the connection was cut";
  if (/ENETUNREACH|EHOSTUNREACH|unreachable/i.test(text)) return "no route to it";
  if (/certificate|tls|ssl/i.test(text)) return "the secure connection failed";
  if (typeof code === "string" && code !== "") return code;
  const name = (error as Error)?.constructor?.name;
  return name && name !== "Error" ? name : "a network error";
}
