import { randomInt } from "node:crypto";

/** The Chrome the browser-like client impersonates (its TLS fingerprint says the same version). */
export const DESKTOP_USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36";
export const MOBILE_USER_AGENT =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1";

/** Headers of ordinary browsers: TikTok serves stubs to clients that look like bots. */
export function pageHeaders(userAgent: string): Record<string, string> {
  return {
    "user-agent": userAgent,
    accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "accept-language": "en-US,en;q=0.9",
  };
}

/**
 * Harmless headers with random names and values, new for each extraction, as yt-dlp adds them to its
 * TikTok page requests since 2026-08 (its "blockbuster headers", against blocks keyed on an exact header
 * set): 2 to 8 headers, each named by 8 to 24 random consonants with a value of 16 to 32 of them
 * (consonants only, so that no real header name comes out). No fixed prefix: a prefix would itself be a
 * fingerprint. Like yt-dlp, we send them with page requests, not with the web app's list API calls.
 */
export function junkHeaders(): Record<string, string> {
  const consonants = "bcdfghjklmnpqrstvwxz";
  const draw = (length: number) =>
    Array.from({ length }, () => consonants[randomInt(consonants.length)]).join("");
  const headers: Record<string, string> = {};
  for (let count = 2 + randomInt(7); Object.keys(headers).length < count; )
    headers[draw(8 + randomInt(17))] = draw(16 + randomInt(17));
  return headers;
}
