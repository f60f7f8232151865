import { lookup, VIDEO_POST } from "./catalogue.js";
import { type FakeHandler, html, type ProviderFake } from "./server.js";
import { TokenSessions } from "./session.js";

const sessions = new TokenSessions("PHPSESSID");

/** GET / (`name="token"`), POST /search/ → `div.download-link` blocks. */
const handler: FakeHandler = (request) => {
  if (request.method === "GET" && request.path === "/") {
    const { token, setCookie } = sessions.issue();
    return html(
      `<html><body><form id="search-form"><input name="url"><input type="hidden" id="token" name="token" value="${token}"></form></body></html>`,
      200,
      {
        "set-cookie": setCookie,
      },
    );
  }
  if (request.method !== "POST" || request.path !== "/search/") return html("", 404);
  if (!sessions.valid(request, request.form.get("token")))
    return html('<div class="error">Invalid token</div>', 403);
  const found = lookup(request.form.get("url"));
  if (found.kind === "missing") return html('<div class="alert">Sorry, video not found.</div>');
  if (found.kind === "broken") return html('<div class="results"><div class="download-link"></div></div>');
  const post = found.post;
  const block = (url: string, label: string) =>
    `<div class="download-link"><div class="download-text">${label}</div><a class="download-link" href="${url}" rel="nofollow">${label}</a></div>`;
  return html(
    `<div class="results">${block(post.play, "No Watermark")}${block(post.wmplay, "Watermark")}${block(post.music, "Audio Only")}</div>`,
  );
};

export const ttdownloaderFake: ProviderFake = {
  handler,
  expected: {
    video: () => ({ noWatermark: VIDEO_POST.play, watermark: VIDEO_POST.wmplay }),
    musicUrl: VIDEO_POST.music,
    photo: false,
    missing: [404, "NOT_FOUND"],
  },
};
