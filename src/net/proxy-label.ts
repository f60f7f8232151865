/** `http://user:secret@host:8080` → `http://host:8080`: a proxy is named without its credentials. */
export function proxyLabel(proxyUrl: string): string {
  const url = new URL(proxyUrl);
  return `${url.protocol}//${url.host}`;
}

/** How a failure names the way it went: " through the proxy http://host:8080", or nothing when direct. */
export const throughProxy = (proxyUrl: string | undefined) =>
  proxyUrl ? ` through the proxy ${proxyLabel(proxyUrl)}` : "";
