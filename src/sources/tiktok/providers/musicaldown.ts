import { SourceFailure } from "../../../domain/errors.js";
import { elements, hasClasses, openingTags, textOf } from "../../../domain/html.js";
import { defineProvider, sameSite, siteAnswer, siteError } from "./common.js";

const NAME = "musicaldown";
const ORIGIN = "https://musicaldown.com";

/** The three inputs of `#submit-form`, whose names change with every session. */
export function musicaldownForm(html: string, url: string): Record<string, string> {
  const formStart = html.search(/<form\b[^>]*\bid=["']submit-form["']/i);
  const formEnd = html.indexOf("</form>", formStart);
  if (formStart === -1 || formEnd === -1)
    throw new SourceFailure("bad_response", "musicaldown's form is gone");
  const fields: Record<string, string> = {};
  for (const { attributes } of openingTags(html.slice(formStart, formEnd), "input")) {
    if (!attributes.name) continue;
    if (attributes.id === "link_url") fields[attributes.name] = url;
    else fields[attributes.name] = attributes.value ?? "";
  }
  if (!Object.values(fields).includes(url) || fields.verify !== "1")
    throw new SourceFailure("bad_response", "musicaldown's form changed");
  return fields;
}

/** A link through `…?token=<base64url JSON>` carries the real address in its `url`. */
function unwrap(href: string | undefined): string | undefined {
  if (!href) return undefined;
  try {
    const token = new URL(href).searchParams.get("token");
    if (!token) return href;
    const payload = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { url?: unknown };
    return typeof payload.url === "string" && /^https?:\/\//.test(payload.url) ? payload.url : href;
  } catch {
    return href;
  }
}

/** musicaldown: a form with random field names, posted back; errors come as a redirect. */
export const musicaldown = defineProvider({ name: NAME, origin: ORIGIN }, async (site, input) => {
  const start = await site.request({ path: "/en" });
  const result = await site.request({
    path: "/download",
    form: musicaldownForm(start.text(), input.url),
    headers: sameSite(site, "/en"),
    follow: false,
    accept: (status) => status === 200 || status === 302 || status === 301,
  });
  if (result.status !== 200) {
    const location = result.header("location") ?? "";
    if (location.includes("/mp3/"))
      throw new SourceFailure("invalid_result", "musicaldown: the link is audio only");
    const reason = new URL(location, site.base).searchParams.get("err") ?? "redirected";
    throw siteError(NAME, reason);
  }
  const html = result.text();
  const buttons = [...elements(html, "a")].filter((a) => hasClasses(a.attributes, "download"));
  const byEvent = (event: string) =>
    site.link(unwrap(buttons.find((a) => a.attributes["data-event"] === event)?.attributes.href));
  const images = [
    ...html.matchAll(/<div\b[^>]*class=["']col s12 m3["'][^>]*>[\s\S]*?<img\b[^>]*\bsrc=["']([^"']+)["']/gi),
  ]
    .map((match) => site.link(match[1]))
    .filter((url) => url !== undefined);
  const noWatermark = byEvent("mp4_download_click");
  if (!noWatermark && images.length === 0) throw siteError(NAME, "no download links");
  const caption = [...elements(html, "h2")].find((h2) => hasClasses(h2.attributes, "white-text"));
  const cover = [...openingTags(html, "img")].find((img) =>
    /cover|video-img|responsive-img/.test(img.attributes.class ?? ""),
  );
  return siteAnswer(input, {
    caption: caption ? textOf(caption.inner) || undefined : undefined,
    video:
      images.length > 0
        ? undefined
        : {
            noWatermark,
            hd: byEvent("hd_download_click"),
            watermark: byEvent("watermark_download_click"),
          },
    music: { url: byEvent("mp3_download_click") },
    images,
    thumb: site.link(cover?.attributes.src),
  });
});
