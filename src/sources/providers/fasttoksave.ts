import type { Source, SourceDeps } from "../types.js";
import { openSite, parseJson } from "./common.js";
import { mapTikwmData, readTikwmAnswer } from "./tikwm.js";

const NAME = "fasttoksave";
const ORIGIN = "https://www.fasttoksave.com";

/** fasttoksave relays tikwm's answer through a WordPress endpoint (PROVIDERS.md "fasttoksave"). */
export function fasttoksave(deps: SourceDeps): Source {
  return {
    name: NAME,
    origin: ORIGIN,
    params: [],
    async extract(input) {
      const site = openSite(deps, NAME, ORIGIN, input);
      const response = await site.request({
        path: "/en/wp-json/tiktok-downloader/v1/fetch",
        json: { url: input.url },
        headers: { origin: site.base.origin, referer: site.url("/en/").href },
      });
      return { media: mapTikwmData(input, site, readTikwmAnswer(parseJson(response, NAME), NAME)) };
    },
  };
}
