import type { Source, SourceDeps } from "../types.js";
import { inputValue, mediaOf, openSite, sameSite, siteError } from "./common.js";
import { unpack } from "./snaptik.js";

const NAME = "tikmate";
const ORIGIN = "https://tikmate.io";

/**
 * tikmate's form variant (PROVIDERS.md "tikmate", the original project's flow): a token, a form post,
 * a packed script whose text holds the thumbnail and then the videos as plain links.
 */
export function tikmate(deps: SourceDeps): Source {
  return {
    name: NAME,
    origin: ORIGIN,
    params: [],
    async extract(input) {
      const site = openSite(deps, NAME, ORIGIN, input);
      const start = await site.request({ path: "/" });
      const token = inputValue(start.text(), "token", NAME);
      const answer = await site.request({
        path: "/abc.php",
        form: { url: input.url, token },
        headers: sameSite(site, "/"),
      });
      const script = unpack(answer.text(), NAME);
      const links = [...new Set([...script.matchAll(/https?:\/\/[^\s"'<>\\]+/g)].map((match) => match[0]))];
      if (links.length < 2)
        throw siteError(NAME, /alert\(["']([^"']*)/.exec(script)?.[1] ?? "no download links");
      const [thumb, noWatermark, second] = links;
      return {
        media: mediaOf(input, {
          thumb: site.link(thumb),
          video: { noWatermark: site.link(noWatermark), hd: site.link(second) },
        }),
      };
    },
  };
}
