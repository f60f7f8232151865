import { SourceFailure } from "../../../domain/errors.js";
import { elements, hasClasses, textOf } from "../../../domain/html.js";
import type { ExtractInput } from "../../types.js";
import { defineProvider, type Site, sameSite, siteAnswer, siteError } from "./common.js";

const NAME = "ssstik";
const ORIGIN = "https://ssstik.io";

/** The per-session token of the start page, in any of the three forms seen over the years. */
export function ssstikToken(html: string): string {
  const token =
    /\bs_tt\s*=\s*["']([^"']+)["']/.exec(html)?.[1] ??
    /\btt\s*:\s*["']([^"']+)["']/.exec(html)?.[1] ??
    /<input\b[^>]*\bid=["']token["'][^>]*\bvalue=["']([^"']+)["']/i.exec(html)?.[1];
  if (!token) throw new SourceFailure("bad_response", "ssstik's page has no token any more");
  return token;
}

function parseFragment(html: string, site: Site, input: ExtractInput) {
  const links = [...elements(html, "a")].filter((a) => hasClasses(a.attributes, "download_link"));
  const href = (...classes: string[]) => {
    const anchor = links.find((a) => hasClasses(a.attributes, ...classes));
    const attributes = anchor?.attributes ?? {};
    return (
      site.link(attributes.href) ??
      site.link(attributes["data-directurl"]) ??
      site.link(attributes["data-tt-hd"])
    );
  };
  const images = links
    .filter((a) => hasClasses(a.attributes, "slide"))
    .map((a) => site.link(a.attributes.href));
  if (links.length === 0) {
    const message = [...elements(html, "p")].map((p) => textOf(p.inner)).join(" ");
    throw siteError(NAME, message || "no download links");
  }
  const avatar = /<img\b[^>]*class=["'][^"']*result_author[^"']*["'][^>]*>/i.exec(html)?.[0];
  const cover = /background-image:\s*url\(\s*['"]?([^'")]+)['"]?\s*\)/i.exec(html)?.[1];
  const caption = [...elements(html, "p")].find((p) => hasClasses(p.attributes, "maintext"));
  const author = [...elements(html, "h2")][0];
  return siteAnswer(input, {
    caption: caption ? textOf(caption.inner) || undefined : undefined,
    author: {
      nickname: author ? textOf(author.inner) || undefined : undefined,
      avatar: avatar ? site.link(/\bsrc=["']([^"']+)["']/.exec(avatar)?.[1]) : undefined,
    },
    video: {
      noWatermark: href("without_watermark"),
      hd: href("without_watermark_hd"),
      watermark: href("watermark"),
    },
    music: { url: href("music") },
    images: images.filter((url) => url !== undefined),
    thumb: site.link(cover),
  });
}

/** ssstik: a token from the start page, then an htmx form post answered with a fragment. */
export const ssstik = defineProvider({ name: NAME, origin: ORIGIN }, async (site, input) => {
  const start = await site.request({ path: "/en" });
  const token = ssstikToken(start.text());
  const result = await site.request({
    path: "/abc",
    query: { url: "dl" },
    form: { id: input.url, locale: "en", tt: token },
    headers: {
      ...sameSite(site, "/en"),
      "hx-request": "true",
      "hx-target": "target",
      "hx-current-url": site.url("/en").href,
    },
  });
  return parseFragment(result.text(), site, input);
});
