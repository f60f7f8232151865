import { elements, hasClasses, textOf } from "../../../domain/html.js";
import { defineProvider, sameSite, siteAnswer, siteError } from "./common.js";

const NAME = "ttdownloader";
const ORIGIN = "https://ttdownloader.com";

/** ttdownloader: a token, a form post, `a.download-link` blocks (docs/upstreams/providers.md "ttdownloader"). */
export const ttdownloader = defineProvider({ name: NAME, origin: ORIGIN }, async (site, input) => {
  const token = await site.token("/", "token");
  const result = await site.request({
    path: "/search/",
    form: { url: input.url, format: "", token },
    headers: { ...sameSite(site, "/"), "x-requested-with": "XMLHttpRequest" },
  });
  const html = result.text();
  const links = [...elements(html, "a")]
    .filter((a) => hasClasses(a.attributes, "download-link"))
    .map((a) => ({ url: site.link(a.attributes.href), label: textOf(a.inner) }));
  const audio = links.find((link) => /audio|mp3/i.test(link.label) || /\.mp3(\?|$)/.test(link.url ?? ""));
  const videos = links.filter((link) => link !== audio);
  const watermarked = videos.find(
    (link) => /watermark/i.test(link.label) && !/no watermark|without/i.test(link.label),
  );
  const clean = videos.find((link) => link !== watermarked);
  if (!clean && !watermarked) throw siteError(NAME, textOf(html).slice(0, 200) || "no download links");
  return siteAnswer(input, {
    video: { noWatermark: clean?.url, watermark: watermarked?.url },
    music: { url: audio?.url },
  });
});
