import { defineProvider, parseJson } from "./common.js";
import { mapTikwmData, readTikwmAnswer } from "./tikwm.js";

/** fasttoksave relays tikwm's answer through a WordPress endpoint (docs/upstreams/providers.md "fasttoksave"). */
export const fasttoksave = defineProvider(
  { name: "fasttoksave", origin: "https://www.fasttoksave.com", namesPosts: true },
  async (site, input) => {
    const response = await site.request({
      path: "/en/wp-json/tiktok-downloader/v1/fetch",
      json: { url: input.url },
      headers: { origin: site.base.origin, referer: site.url("/en/").href },
    });
    return mapTikwmData(input, site, readTikwmAnswer(parseJson(response, site.name), site.name));
  },
);
