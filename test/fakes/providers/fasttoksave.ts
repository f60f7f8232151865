import { lookup } from "./catalogue.js";
import { type FakeHandler, json } from "./server.js";
import { tikwmData } from "./tikwm.js";

/** POST /en/wp-json/tiktok-downloader/v1/fetch with a JSON body; tikwm's data relayed, absolute links. */
export const fasttoksaveFake: FakeHandler = (request) => {
  if (request.method !== "POST" || request.path !== "/en/wp-json/tiktok-downloader/v1/fetch")
    return json({ code: "rest_no_route", message: "No route was found" }, 404);
  const found = lookup((request.json as { url?: string } | undefined)?.url);
  if (found.kind === "missing") return json({ code: -1, msg: "Video not found" });
  if (found.kind === "broken") return json({ code: 0, msg: "ok" });
  const data = tikwmData(found.post, false);
  const absolute = (path: unknown) =>
    typeof path === "string" && path.startsWith("/") ? `https://www.tikwm.com${path}` : path;
  return json({
    code: 0,
    msg: "success",
    data: { ...data, play: absolute(data.play), wmplay: absolute(data.wmplay), cover: absolute(data.cover) },
  });
};
