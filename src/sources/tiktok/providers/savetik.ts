import { at, num, str } from "../../../domain/json-path.js";
import { defineProvider, parseJson, siteAnswer, siteError } from "./common.js";

const NAME = "savetik";
const ORIGIN = "https://savetik.net";

/** savetik's 2025 JSON action (docs/upstreams/providers.md "savetik"); HTTP 400 means "not found". */
export const savetik = defineProvider({ name: NAME, origin: ORIGIN }, async (site, input) => {
  const response = await site.request({
    path: "/api/action",
    query: { url: input.url },
    accept: (status) => (status >= 200 && status < 300) || status === 400,
  });
  if (response.status === 400) throw siteError(NAME, "video not found (HTTP 400)");
  const body = parseJson(response, NAME);
  const error = str(at(body, ["error"]));
  if (error) throw siteError(NAME, error);
  return siteAnswer(input, {
    caption: str(at(body, ["postinfo", "media_title"])),
    author: {
      username: str(at(body, ["postinfo", "unique_id"])),
      nickname: str(at(body, ["postinfo", "username"])),
      id: str(at(body, ["postinfo", "uid"])),
      avatar: site.link(at(body, ["postinfo", "avatar_url"])),
    },
    video: {
      noWatermark: site.link(at(body, ["downloadUrl"])),
      hd: site.link(at(body, ["hdDownloadUrl"])),
      duration: num(at(body, ["duration"])),
    },
    images: site.links(at(body, ["items"])),
    thumb: site.link(at(body, ["cover"])),
    music: { url: site.link(at(body, ["musicUrl"])) },
    stats: {
      plays: num(at(body, ["stats", "playCount"])),
      likes: num(at(body, ["stats", "likeCount"])),
      comments: num(at(body, ["stats", "commentCount"])),
      shares: num(at(body, ["stats", "shareCount"])),
      saves: num(at(body, ["stats", "collectCount"])),
    },
  });
});
