import { textOf } from "../../../domain/html.js";
import { at, list, num, str } from "../../../domain/json-path.js";
import { defineProvider, parseJson, sameSite, siteAnswer, siteError } from "./common.js";

const NAME = "lovetik";
const ORIGIN = "https://lovetik.com";

interface LovetikLink {
  url?: string;
  label: string;
  kind?: number;
}

/** lovetik's AJAX search (docs/upstreams/providers.md "lovetik"): links in order, no watermark first. */
export const lovetik = defineProvider(
  { name: NAME, origin: ORIGIN, namesPosts: true },
  async (site, input) => {
    const response = await site.request({
      path: "/api/ajax/search",
      form: { query: input.url },
      headers: { "x-requested-with": "XMLHttpRequest", ...sameSite(site, "/") },
    });
    const body = parseJson(response, NAME);
    if (str(at(body, ["status"])) !== "ok") throw siteError(NAME, str(at(body, ["mess"])) ?? "no status");
    const links: LovetikLink[] = list(at(body, ["links"])).map((link) => ({
      url: site.link(at(link, ["a"])),
      label: textOf(str(at(link, ["t"])) ?? ""),
      kind: num(at(link, ["ft"])),
    }));
    const videos = links.filter((link) => link.kind !== 3 && !/mp3/i.test(link.label));
    const watermarked = videos.find(
      (link) => /watermark/i.test(link.label) && !/no watermark|without/i.test(link.label),
    );
    const clean = videos.filter((link) => link !== watermarked);
    return siteAnswer(
      input,
      {
        caption: textOf(str(at(body, ["desc"])) ?? "") || undefined,
        author: {
          username: str(at(body, ["author_name"])),
          nickname: textOf(str(at(body, ["author"])) ?? "") || undefined,
        },
        video: {
          noWatermark: clean[0]?.url,
          hd: clean.find((link) => /hd|1080/i.test(link.label))?.url,
          watermark: watermarked?.url,
        },
        music: { url: links.find((link) => link.kind === 3 || /mp3/i.test(link.label))?.url },
        images: site.links(at(body, ["images"])),
        thumb: site.link(at(body, ["cover"])),
      },
      at(body, ["vid"]),
    );
  },
);
