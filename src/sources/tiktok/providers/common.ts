import { SourceFailure } from "../../../domain/errors.js";
import { at, list } from "../../../domain/json-path.js";
import { type Media, postIdsInLinks, withIdEvidence } from "../../../domain/media.js";
import { TIKTOK } from "../../../domain/platforms.js";
import { DESKTOP_USER_AGENT, pageHeaders } from "../../../net/browser.js";
import { newCookieJar } from "../../../net/cookie-jar.js";
import type { HttpResponse } from "../../../net/http-client.js";
import { joinBase } from "../../../net/upstreams.js";
import { decodePackedScript, PackedScriptError } from "../../packed-script.js";
import type { ExtractInput, ParamSpec, SourceDeps, SourceDescriptor } from "../../types.js";

/**
 * What every third-party site needs (docs/upstreams/providers.md, "Common to all"): a browser User-Agent, one cookie
 * jar per extraction, few redirects and only on the site itself, and its origin swappable by
 * `UPSTREAM_<NAME>` (a base that may carry a path prefix).
 */
export interface Site {
  readonly name: string;
  /** The base every path of the site is appended to (the override, or the real origin). */
  readonly base: URL;
  /** A path of the site ("/api/") under the base, prefix kept. */
  url(path: string): URL;
  /** A link the site gave: absolute http(s) as is, site-relative resolved against the base. */
  link(value: unknown): string | undefined;
  /** The links of a JSON list whose items are links or `{url}` objects, in order; unusable ones dropped. */
  links(value: unknown): string[];
  request(step: Step): Promise<HttpResponse>;
  /** GETs a page of the site and reads its hidden `<input name="…">` token (cookies kept in the jar). */
  token(path: string, field: string): Promise<string>;
}

export interface Step {
  path: string;
  method?: "GET" | "POST";
  query?: Record<string, string>;
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are an answer rather than a failure (default: 2xx). */
  accept?: (status: number) => boolean;
  /** Follow redirects on the site (default true). */
  follow?: boolean;
}

export function openSite(
  deps: SourceDeps,
  name: string,
  origin: string,
  input: Pick<ExtractInput, "signal">,
): Site {
  const base = deps.upstreams.baseOf(name, origin);
  const jar = newCookieJar();
  // One way out for the whole exchange: the site's cookies and tokens belong to it.
  const route = deps.egress.pick(name);
  const url = (path: string) => joinBase(base, path);
  const site: Site = {
    name,
    base,
    url,
    link(value) {
      if (typeof value !== "string" || value.trim() === "") return undefined;
      const text = value.trim();
      if (/^https?:\/\//i.test(text)) return text;
      if (text.startsWith("//")) return `https:${text}`;
      if (text.startsWith("/")) return url(text).href;
      return undefined;
    },
    links(value) {
      return list(value)
        .map((item) => site.link(item) ?? site.link(at(item, ["url"])))
        .filter((link) => link !== undefined);
    },
    async request(step) {
      const target = url(step.path);
      for (const [key, value] of Object.entries(step.query ?? {})) target.searchParams.set(key, value);
      const headers: Record<string, string> = {
        ...pageHeaders(DESKTOP_USER_AGENT),
        accept: "text/html,application/json,*/*;q=0.8",
        ...step.headers,
      };
      let body: string | undefined;
      if (step.form) {
        body = new URLSearchParams(step.form).toString();
        headers["content-type"] ??= "application/x-www-form-urlencoded; charset=UTF-8";
      } else if (step.json !== undefined) {
        body = JSON.stringify(step.json);
        headers["content-type"] = "application/json";
      }
      try {
        const response = await route.http.request({
          url: target,
          method: step.method ?? (body === undefined ? "GET" : "POST"),
          headers,
          body,
          jar: await jar,
          signal: input.signal,
          redirects:
            step.follow === false ? undefined : { max: 3, allow: (next) => next.origin === base.origin },
        });
        const accepted = step.accept ?? ((status) => status >= 200 && status < 300);
        if (!accepted(response.status))
          throw new SourceFailure("http_status", `${name} answered HTTP ${response.status}`);
        deps.egress.report(route, "ok");
        return response;
      } catch (error) {
        deps.egress.report(route, error);
        throw error;
      }
    },
    async token(path, field) {
      const page = await site.request({ path });
      return inputValue(page.text(), field, name);
    },
  };
  return site;
}

/** What a site told about one post: the common result, and the post id its answer names, if any. */
export interface SiteAnswer {
  media: Media;
  /** The id in the site's own answer (tikwm's `id`, lovetik's `vid`); absent when it gives none. */
  saidId?: string;
}

/**
 * A provider as a source: its name, real origin and params, and how it reads a post from its site.
 * The site (base URL from `UPSTREAM_<NAME>`, cookie jar, timeouts) is opened fresh per extraction. The
 * answer is checked against the post asked for: by the id the site names, and by the ids its files'
 * addresses carry.
 */
export function defineProvider(
  spec: { name: string; origin: string; params?: ParamSpec[]; namesPosts?: boolean },
  extract: (site: Site, input: ExtractInput) => Promise<SiteAnswer>,
): SourceDescriptor {
  return {
    name: spec.name,
    // Every downloader site here serves TikTok's posts; a sibling site's providers will name theirs.
    platform: TIKTOK.name,
    origin: spec.origin,
    upstream: spec.name,
    params: spec.params ?? [],
    provesPostId: spec.namesPosts ?? false,
    create: (deps) => async (input) => {
      const answer = await extract(openSite(deps, spec.name, spec.origin, input), input);
      const linked = postIdsInLinks(answer.media, deps.now());
      return withIdEvidence(input.id, answer.media, [answer.saidId, ...linked]);
    },
  };
}

/** Headers of a same-site form post made by the site's own page. */
export const sameSite = (site: Site, refererPath: string) => ({
  origin: site.base.origin,
  referer: site.url(refererPath).href,
});

export function parseJson(response: HttpResponse, name: string): unknown {
  try {
    return JSON.parse(response.text());
  } catch {
    throw new SourceFailure("bad_response", `${name} answered something other than JSON`);
  }
}

/**
 * The common result from what a site told. `saidId` is the post id the site's answer names, when it
 * names one: it is checked against the id asked for, never replaced by it.
 */
export function siteAnswer(
  input: ExtractInput,
  parts: Omit<Media, "id" | "type">,
  saidId?: unknown,
): SiteAnswer {
  const type = parts.images && parts.images.length > 0 ? "photo" : "video";
  const said = typeof saidId === "number" && Number.isSafeInteger(saidId) ? String(saidId) : saidId;
  return {
    media: { id: input.id, type, ...parts },
    saidId: typeof said === "string" && said.trim() !== "" ? said.trim() : undefined,
  };
}

/** A hidden `<input name="…" value="…">` (tokens), or a failure naming what changed. */
export function inputValue(html: string, name: string, site: string): string {
  const match = new RegExp(`<input\\b[^>]*\\bname=["']${name}["'][^>]*>`, "i").exec(html)?.[0];
  const value = match ? /\bvalue=["']([^"']*)["']/i.exec(match)?.[1] : undefined;
  if (!value) throw new SourceFailure("bad_response", `${site}'s page has no ${name} field any more`);
  return value;
}

/** tikwm says "Url parsing is failed" for posts that are gone or never were. */
const NOT_FOUND_WORDS =
  /not found|doesn'?t exist|no longer available|removed|invalid .*url|url invalid|parsing is failed/i;
const PRIVATE_WORDS = /private/i;

/** A site's error message as a failure: "not found" and "private" are told apart from the rest. */
export function siteError(name: string, message: string): SourceFailure {
  const text = message.replace(/\s+/g, " ").trim().slice(0, 200) || "no details";
  // "Video not found. It may be private or deleted." is a "not found": the site does not know which.
  if (NOT_FOUND_WORDS.test(text)) return new SourceFailure("not_found", `${name}: ${text}`);
  if (PRIVATE_WORDS.test(text)) return new SourceFailure("private", `${name}: ${text}`);
  return new SourceFailure("bad_response", `${name}: ${text}`);
}

/** A packed answer's hidden script, or this site's failure. Shared by every site that packs. */
export function unpack(body: string, name: string): string {
  try {
    return decodePackedScript(body);
  } catch (error) {
    if (error instanceof PackedScriptError)
      throw new SourceFailure("bad_response", `${name}: ${error.message}`);
    throw error;
  }
}
