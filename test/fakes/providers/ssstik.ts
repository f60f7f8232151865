import { cdnLinksExpected, lookup } from "./catalogue.js";
import { escapeHtml, type FakeHandler, html, type ProviderFake } from "./server.js";
import { TokenSessions } from "./session.js";

const sessions = new TokenSessions("PHPSESSID");

/** GET /en (token in `s_tt = '…'`), then an htmx POST /abc?url=dl answered with a fragment. */
const handler: FakeHandler = (request) => {
  if (request.method === "GET" && request.path === "/en") {
    const { token, setCookie } = sessions.issue();
    return html(
      `<!DOCTYPE html><html><head><title>ssstik</title></head><body><form id="_gcaptcha_pt" hx-post="/abc?url=dl" hx-target="#target">
<input id="main_page_text" name="id" type="text"></form><div id="target"></div>
<script>var s_tt = '${token}'; var locale = 'en';</script></body></html>`,
      200,
      { "set-cookie": setCookie },
    );
  }
  if (request.method !== "POST" || request.path !== "/abc" || request.query.get("url") !== "dl")
    return html("", 404);
  if (request.headers["hx-request"] !== "true" || !sessions.valid(request, request.form.get("tt")))
    return html('<div class="panel notice"><p>Something went wrong. Please try again</p></div>');
  const found = lookup(request.form.get("id"));
  if (found.kind === "missing")
    return html('<div class="panel notice"><p>Video not found. It may be private or deleted.</p></div>');
  if (found.kind === "broken")
    return html('<div class="result_overlay"><p class="maintext">Download</p></div>');
  const post = found.post;
  const photo = post.images !== undefined;
  const links = photo
    ? `<ul class="splide__list">${(post.images ?? []).map((image) => `<li><a href="${image}" class="download_link slide flex-1">Download</a></li>`).join("")}</ul>
<a href="https://tikcdn.io/ssstik/slideshow/${post.id}.mp4" class="pure-button download_link slides_video">Slideshow video</a>
<a href="${post.music}" class="pure-button download_link music">Download MP3</a>`
    : `<a href="${post.play}" class="pure-button pure-button-primary is-center u-bl dl-button download_link without_watermark vignette_active notranslate">Without watermark</a>
<a href="#" data-directurl="${post.hdplay}" class="pure-button download_link without_watermark_hd">Without watermark HD</a>
<a href="${post.wmplay}" class="pure-button download_link watermark">With watermark</a>
<a href="${post.music}" class="pure-button download_link music">Download MP3</a>`;
  return html(`<div id="mainpicture" class="result_overlay" style="background-image: url(${post.cover});"></div>
<div class="pure-u-1"><img class="result_author" src="${post.avatar}" alt="${escapeHtml(post.username)}">
<h2>${escapeHtml(post.nickname)}</h2><p class="maintext">${escapeHtml(post.caption)}</p></div>
<div class="pure-u-1 result_overlay_buttons">${links}</div>`);
};

export const ssstikFake: ProviderFake = {
  handler,
  expected: cdnLinksExpected([404, "NOT_FOUND"]),
};
