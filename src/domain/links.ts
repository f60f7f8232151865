import { badRequest } from "./errors.js";

/** Longest link we look at; anything longer is refused before any parsing or network call. */
export const MAX_LINK_LENGTH = 2048;

/** A host test for a site's domains: each domain itself and every host under it (any case, a trailing dot). */
export function withinDomains(domains: readonly string[]): (hostname: string) => boolean {
  return (hostname) => {
    const host = hostname.toLowerCase().replace(/\.$/, "");
    return domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
  };
}

/** A post, named as everything shared between requests names it: the site it is on, and its id there. */
export interface PostRef {
  platform: string;
  id: string;
}

/** A post link, parsed: its site, its id, and the author's handle when the link has one. */
export interface PostLink extends PostRef {
  kind: "post";
  username?: string;
}

/** The sites whose links a request may hold: which hosts are theirs, and what to call them in an error. */
export interface LinkSites {
  accepts(host: string): boolean;
  /** "TikTok", "TikTok or Douyin". */
  label: string;
}

/** An address a user pasted, checked: http(s), a supported site's host, no user info or port. */
export interface Address {
  url: URL;
  /** Lower case, without a trailing dot. */
  host: string;
  /** The path with repeated slashes collapsed. */
  path: string;
}

/**
 * A link that starts a word: at the start of the text, or after a space or an opening bracket or quote
 * (never inside another address, such as a query that carries one). Punctuation that closes a sentence
 * is not part of it. Which sites' links count is decided after (`LinkSites`).
 */
const LINK_IN_TEXT =
  /(?<=^|[\s(<[{"'«“])(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/?#][^\s<>"'»”]*)?/gi;

/**
 * The one supported link in a pasted message ("look at this https://vm.tiktok.com/ZM…/ lol"), or a 400:
 * none, or two different ones.
 */
function linkInText(text: string, sites: LinkSites): string {
  // The same link written twice (with and without its scheme, say) is one link.
  const found = new Map<string, string>();
  for (const match of text.matchAll(LINK_IN_TEXT)) {
    if (!sites.accepts((match[1] ?? "").toLowerCase())) continue;
    const link = match[0].replace(/[.,;:!?)\]}]+$/, "");
    found.set(
      link
        .replace(/^https?:\/\//i, "")
        .replace(/\/+$/, "")
        .toLowerCase(),
      link,
    );
  }
  if (found.size === 0) throw badRequest("INVALID_URL", `The "url" field holds no ${sites.label} link.`);
  if (found.size > 1)
    throw badRequest(
      "INVALID_URL",
      `The "url" field holds several ${sites.label} links; send one at a time.`,
    );
  return [...found.values()][0] as string;
}

/** The address in what was pasted (a link, or a message with exactly one link in it), or a 400 that says why. */
export function readAddress(input: string, sites: LinkSites): Address {
  const trimmed = input.trim();
  if (trimmed === "") throw badRequest("MISSING_URL", 'The "url" field is empty.');
  if (trimmed.length > MAX_LINK_LENGTH)
    throw badRequest("INVALID_URL", `The "url" field is longer than ${MAX_LINK_LENGTH} characters.`);
  const text = /\s/.test(trimmed) ? linkInText(trimmed, sites) : trimmed;
  // The URL parser would silently drop control characters; a link carrying them is refused instead.
  if (/[\u0000-\u001f\u007f]/.test(text))
    throw badRequest("INVALID_URL", 'The "url" field contains control characters.');
  // Links pasted without a scheme ("vm.tiktok.com/ZM…") are common; any other scheme is refused.
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw badRequest("INVALID_URL", 'The "url" field is not a valid link.');
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw badRequest("INVALID_URL", 'The "url" field must be an http(s) link.');
  if (url.username !== "" || url.password !== "" || url.port !== "")
    throw badRequest(
      "UNSUPPORTED_HOST",
      `The "url" field must be a plain ${sites.label} link (no user info or port).`,
    );
  const host = url.hostname.replace(/\.$/, "");
  if (!sites.accepts(host)) {
    const error = badRequest(
      "UNSUPPORTED_HOST",
      `The "url" field must be a ${sites.label} link; "${host}" is not ${sites.label}.`,
    );
    error.host = host.slice(0, 253);
    throw error;
  }
  return { url, host, path: url.pathname.replace(/\/{2,}/g, "/") };
}
