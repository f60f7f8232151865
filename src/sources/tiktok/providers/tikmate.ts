import { defineProvider, sameSite, siteAnswer, siteError, unpack } from "./common.js";

const NAME = "tikmate";
const ORIGIN = "https://tikmate.io";

/**
 * tikmate's form variant (docs/upstreams/providers.md "tikmate", the original project's flow): a token, a form post,
 * a packed script whose text holds the thumbnail and then the videos as plain links.
 */
export const tikmate = defineProvider({ name: NAME, origin: ORIGIN }, async (site, input) => {
  const token = await site.token("/", "token");
  const answer = await site.request({
    path: "/abc.php",
    form: { url: input.url, token },
    headers: sameSite(site, "/"),
  });
  const script = unpack(answer.text(), NAME);
  const links = [...new Set([...script.matchAll(/https?:\/\/[^\s"'<>\\]+/g)].map((match) => match[0]))];
  if (links.length < 2) throw siteError(NAME, /alert\(["']([^"']*)/.exec(script)?.[1] ?? "no download links");
  const [thumb, noWatermark, second] = links;
  return siteAnswer(input, {
    thumb: site.link(thumb),
    video: { noWatermark: site.link(noWatermark), hd: site.link(second) },
  });
});
