import type { CookieJar } from "tough-cookie";

/**
 * A new, empty cookie jar. tough-cookie (and the public-suffix list it carries) loads with the first
 * jar, at the first upstream exchange: an idle instance does not carry it (docs/performance.md).
 */
export async function newCookieJar(): Promise<CookieJar> {
  const { CookieJar } = await import("tough-cookie");
  return new CookieJar();
}
