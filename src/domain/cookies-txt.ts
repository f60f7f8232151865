/** One cookie of a Netscape `cookies.txt` (what yt-dlp and browser extensions export). */
export interface FileCookie {
  domain: string;
  includeSubdomains: boolean;
  path: string;
  secure: boolean;
  /** Unix seconds; 0 for a session cookie. */
  expires: number;
  name: string;
  value: string;
}

/**
 * Reads the Netscape cookie file format: one cookie per line, seven tab-separated fields
 * (domain, include-subdomains flag, path, secure flag, expiry, name, value). `#` lines are comments,
 * except `#HttpOnly_<domain>` lines, which are cookies. Malformed lines are skipped; a value with a
 * control character (a NUL, say: no HTTP request can carry it) is refused, naming its line, rather than
 * making every request that would carry it fail.
 */
export function parseCookiesTxt(text: string): FileCookie[] {
  const cookies: FileCookie[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.startsWith("#HttpOnly_") ? raw.slice("#HttpOnly_".length) : raw;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = line.split("\t");
    if (fields.length < 7) continue;
    const [domain = "", flag, path = "/", secure, expires, name = "", ...rest] = fields;
    const value = rest.join("\t");
    if (!/^[\w.-]+$/.test(domain.replace(/^\./, "")) || !/^[!#$%&'*+.^`|~\w-]+$/.test(name)) continue;
    if (/[;\r\n]/.test(value)) continue;
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value))
      throw new Error(`line ${index + 1}: the value of cookie "${name}" holds a control character`);
    cookies.push({
      domain: domain.toLowerCase(),
      includeSubdomains: flag?.toUpperCase() === "TRUE",
      path: path || "/",
      secure: secure?.toUpperCase() === "TRUE",
      expires: Number(expires) || 0,
      name,
      value,
    });
  }
  return cookies;
}
