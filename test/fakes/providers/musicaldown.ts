import { randomBytes } from "node:crypto";
import { cdnLinksExpected, lookup } from "./catalogue.js";
import { escapeHtml, type FakeHandler, html, type ProviderFake } from "./server.js";

/** Per-session random field names, bound to the `session_data` cookie. */
const forms = new Map<string, { urlName: string; tokenName: string; tokenValue: string }>();

/** GET /en (random field names), POST /download → result HTML, or 302 /en/?err=… */
const handler: FakeHandler = (request) => {
  if (request.method === "GET" && request.path === "/en") {
    const session = randomBytes(12).toString("hex");
    const form = {
      urlName: `_${randomBytes(5).toString("hex")}`,
      tokenName: `_${randomBytes(5).toString("hex")}`,
      tokenValue: randomBytes(16).toString("hex"),
    };
    forms.set(session, form);
    return html(
      `<html><body><form id="submit-form" action="/download" method="post"><div class="input-field"><input name="${form.urlName}" type="text" id="link_url" placeholder="Paste link"></div><input type="hidden" name="${form.tokenName}" value="${form.tokenValue}"><input type="hidden" name="verify" value="1"></form></body></html>`,
      200,
      { "set-cookie": `session_data=${session}; Path=/; HttpOnly` },
    );
  }
  if (request.method !== "POST" || request.path !== "/download") return html("", 404);
  const form = forms.get(request.cookies.get("session_data") ?? "");
  const back = (error: string) => html("", 302, { location: `/en/?err=${encodeURIComponent(error)}` });
  if (!form || request.form.get(form.tokenName) !== form.tokenValue || request.form.get("verify") !== "1")
    return back("Session expired!");
  const found = lookup(request.form.get(form.urlName));
  if (found.kind === "missing") return back("Video is private!");
  if (found.kind === "broken")
    return html('<div class="row"><div class="col s12 l8"><p>Server busy</p></div></div>');
  const post = found.post;
  const button = (event: string, url: string, label: string) =>
    `<a style="margin-top:10px;" target="_blank" rel="noreferrer" class="btn waves-effect waves-light orange download" href="${url}" data-event="${event}">${label}</a>`;
  const wrapped = (url: string) =>
    `https://muscdn.app/mp4/download?token=${Buffer.from(JSON.stringify({ url })).toString("base64url")}`;
  const body = post.images
    ? `<div class="row">${post.images.map((image) => `<div class="col s12 m3"><div class="card"><img src="${image}" class="responsive-img"><a href="${image}" class="btn download">Download</a></div></div>`).join("")}</div>
<script>var data = { data: "${randomBytes(12).toString("hex")}" };</script>${button("mp3_download_click", post.music, "Download MP3")}`
    : `<div class="row"><div class="col s12 l4"><img src="${post.cover}" class="responsive-img video-img"></div><div class="col s12 l8">
<h2 class="white-text">${escapeHtml(post.caption)}</h2>
${button("mp4_download_click", wrapped(post.play), "Download MP4 Now")}
${button("hd_download_click", post.hdplay, "Download MP4 HD")}
${button("mp3_download_click", post.music, "Download MP3")}
${button("watermark_download_click", post.wmplay, "Download MP4 [Watermark]")}</div></div>`;
  return html(`<html><body><div class="container">${body}</div></body></html>`);
};

export const musicaldownFake: ProviderFake = {
  handler,
  expected: cdnLinksExpected([403, "PRIVATE"]),
};
