import { elements, hasClasses, textOf } from "../../../domain/html.js";
import { innerHtmlOf } from "../../packed-script.js";
import { defineProvider, siteAnswer, siteError, unpack } from "./common.js";

const NAME = "snaptik";
const ORIGIN = "https://snaptik.app";

/** snaptik: a token from /en2, then /abc2.php answers a packed script that writes the result HTML. */
export const snaptik = defineProvider({ name: NAME, origin: ORIGIN }, async (site, input) => {
  const token = await site.token("/en2", "token");
  const answer = await site.request({
    path: "/abc2.php",
    query: { url: input.url, lang: "en2", token },
    headers: { referer: site.url("/en2").href },
  });
  const script = unpack(answer.text(), NAME);
  const html = innerHtmlOf(script);
  if (!html) throw siteError(NAME, /alert\(["']([^"']*)/.exec(script)?.[1] ?? "no result in the script");
  const anchors = [...elements(html, "a")].map((a) => a.attributes);
  const files = anchors.filter((a) => hasClasses(a, "download-file")).map((a) => site.link(a.href));
  const hdButton = /<button\b[^>]*btn-download-hd[^>]*>/i.exec(html)?.[0] ?? "";
  const hd = /\bdata-backup=["']([^"']+)["']/.exec(hdButton)?.[1];
  const photos = [
    ...html.matchAll(
      /<div\b[^>]*class=["'][^"']*\bphoto\b[^"']*["'][^>]*>[\s\S]*?<a\b[^>]*href=["']([^"']+)["']/gi,
    ),
  ]
    .map((match) => site.link(match[1]?.replaceAll("&amp;", "&")))
    .filter((url) => url !== undefined);
  const title = [...elements(html, "div")].find((div) => hasClasses(div.attributes, "video-title"));
  const author = [...elements(html, "span")].find((span) => textOf(span.inner) !== "");
  const thumbnail = /<img\b[^>]*\bid=["']thumbnail["'][^>]*>/i.exec(html)?.[0] ?? "";
  if (files.length === 0 && photos.length === 0) throw siteError(NAME, textOf(html) || "no download links");
  return siteAnswer(input, {
    caption: title ? textOf(title.inner) || undefined : undefined,
    author: { nickname: author ? textOf(author.inner) : undefined },
    video:
      photos.length > 0 ? undefined : { noWatermark: files[0], hd: site.link(hd?.replaceAll("&amp;", "&")) },
    images: photos,
    thumb: site.link(/\bsrc=["']([^"']+)["']/.exec(thumbnail)?.[1]?.replaceAll("&amp;", "&")),
  });
});
