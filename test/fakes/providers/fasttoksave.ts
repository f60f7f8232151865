import { lookup, VIDEO_POST } from "./catalogue.js";
import { type FakeHandler, json, type ProviderFake } from "./server.js";
import { tikwmData } from "./tikwm.js";

/** POST /en/wp-json/tiktok-downloader/v1/fetch with a JSON body; tikwm's data relayed, absolute links. */
const handler: FakeHandler = (request) => {
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

export const fasttoksaveFake: ProviderFake = {
  handler,
  expected: {
    video: () => ({
      noWatermark: `https://www.tikwm.com/video/media/play/${VIDEO_POST.id}.mp4`,
      watermark: `https://www.tikwm.com/video/media/wmplay/${VIDEO_POST.id}.mp4`,
    }),
    musicUrl: VIDEO_POST.music,
    photo: true,
    missing: [404, "NOT_FOUND"],
    details: true,
  },
};
