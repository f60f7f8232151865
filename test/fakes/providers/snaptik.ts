import { packScript } from "../packer.js";
import { lookup, VIDEO_POST } from "./catalogue.js";
import { escapeHtml, type FakeHandler, html, type ProviderFake } from "./server.js";
import { TokenSessions } from "./session.js";

const sessions = new TokenSessions("current_language_session");

const rapid = (url: string) => {
  const jwt = (payload: object) =>
    `eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.c2lnbmF0dXJl`;
  return `https://d.rapidcdn.app/v2?token=${jwt({ url, filename: "snaptik.mp4" })}&amp;dl=1`;
};

/** The script snaptik packs: an expiry test, then `innerHTML = "…"` of the result (as in the capture). */
function script(inner: string) {
  const literal = inner.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
  return `if((Math.round(+new Date()/1000)) < ${Math.floor(Date.now() / 1000) + 600}){if(window.location.hostname==='snaptik.app'){$("#hero").remove(); $("#download").innerHTML = "${literal}"; $(".contents").style.display = "none";}}`;
}

/** GET /en2 (hidden `token` input), then GET /abc2.php?url&lang&token answered with a packed script. */
const handler: FakeHandler = (request) => {
  if (request.path === "/en2") {
    const { token, setCookie } = sessions.issue();
    return html(
      `<html><body><form action="/abc2.php" method="get"><input name="url" id="url" type="text"><input name="lang" value="en2" type="hidden"><input name="token" value="${token}" type="hidden"></form></body></html>`,
      200,
      { "set-cookie": setCookie },
    );
  }
  if (request.path !== "/abc2.php") return html("", 404);
  const packed = (text: string) => ({ ...html(packScript(text)), type: "text/javascript; charset=utf-8" });
  if (!sessions.valid(request, request.query.get("token")))
    return packed('$("#alert").innerText = "Error: token expired, please reload the page";');
  const found = lookup(request.query.get("url"));
  if (found.kind === "missing") return packed('alert("Video not found or it could not be downloaded");');
  if (found.kind === "broken") return { ...html("<html>maintenance</html>"), type: "text/html" };
  const post = found.post;
  const media = post.images
    ? post.images
        .map(
          (image, n) =>
            `<div class="photo"><img src="${image}" alt="Photo ${n + 1}"><a href="${image}" class="button">Download Photo</a></div>`,
        )
        .join("")
    : `<a href="${rapid(post.play)}" class="button download-file" data-ad="true" data-event="server01_file" rel="nofollow"><i class="icon icon-down"></i>Download Video</a>` +
      `<button data-tokenhd="https://api.snaptik.app/v2/tiktok/hd_download_url?token=x" data-backup="${rapid(post.hdplay)}" class="button btn-download-hd mt-3">Download Video HD</button>`;
  return packed(
    script(
      `<div class="download-box"><div class="video-header mb-3"><img src="${post.cover.replaceAll("&", "&amp;")}" class="avatar" alt="Avatar snapx" id="thumbnail"><div class="info"><div class="video-title">${escapeHtml(post.caption)}</div><span>${escapeHtml(post.nickname)}</span></div></div><div class="video-links">${media}<a href="/" class="button is-black mt-3">Download other video</a></div></div>`,
    ),
  );
};

/** What a rapidcdn link must look like once read back: its token's payload names the CDN address. */
const rapidPattern = (url: string) =>
  new RegExp(
    `^https://d\\.rapidcdn\\.app/v2\\?token=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9\\.${Buffer.from(JSON.stringify({ url, filename: "snaptik.mp4" })).toString("base64url")}\\.c2lnbmF0dXJl&dl=1$`,
  );

export const snaptikFake: ProviderFake = {
  handler,
  expected: {
    video: () => ({}),
    videoPatterns: { noWatermark: rapidPattern(VIDEO_POST.play), hd: rapidPattern(VIDEO_POST.hdplay) },
    photo: true,
    missing: [404, "NOT_FOUND"],
  },
};
