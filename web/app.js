// The page's only script: asks /api/download for each link and shows what can be downloaded.
// Plain ES module, no build step. Every value from the API is inserted as text, never as HTML. Every
// word the page shows comes from the catalogs in i18n.js.
import { LANGUAGES, pickLanguage, translator } from "./i18n.js";
import { createPace } from "./pace.js";

const form = document.getElementById("lookup");
const input = document.getElementById("links");
const button = document.getElementById("go");
const status = document.getElementById("status");
const results = document.getElementById("results");

const LANGUAGE_STORAGE = "tiktok-dl:language";
const language = pickLanguage(localStorage.getItem(LANGUAGE_STORAGE), navigator.languages);
const t = translator(language);
const numberFormat = new Intl.NumberFormat(language, { notation: "compact" });
/** Every request to this server goes through it: the page keeps within the limits the server states. */
const paced = createPace();
/** A touch screen: no keyboard shortcut to offer. */
const touch = matchMedia("(pointer: coarse)").matches;

/** The static page in the visitor's language, and a picker that is remembered. */
function translatePage() {
  document.documentElement.lang = language;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria-label]"))
    node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  if (touch) document.getElementById("links-help").textContent = t("linksHelpTouch");
  document.querySelector('meta[name="description"]')?.setAttribute("content", t("metaDescription"));
  const picker = document.getElementById("language");
  for (const [tag, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement("option");
    option.value = tag;
    option.textContent = name;
    option.selected = tag === language;
    option.lang = tag;
    picker.append(option);
  }
  picker.addEventListener("change", () => {
    localStorage.setItem(LANGUAGE_STORAGE, picker.value);
    location.reload();
  });
}
translatePage();

/** Creates an element with text and attributes; children appended in order. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * One lookup per line that holds a link, the line as it is: the server finds the one TikTok link in a
 * pasted share message ("look at this https://vm.tiktok.com/ZM…/ lol"), as the API does.
 */
function linesOf(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
const holdsLink = (line) => /https?:\/\/|tiktokv?\.com/i.test(line);

/** The API key the user gave this page, kept in this browser only. */
const KEY_STORAGE = "tiktok-dl:api-key";
const apiHeaders = () => {
  const key = localStorage.getItem(KEY_STORAGE);
  return { accept: "application/json", ...(key ? { authorization: `Api-Key ${key}` } : {}) };
};

/** The API's errors in plain words, in the visitor's language; the API's own sentence for the rest. */
const PLAIN_WORDS = {
  INVALID_URL: "notTikTok",
  MISSING_URL: "notTikTok",
  UNSUPPORTED_LINK: "notAPost",
  RATE_LIMITED: "rateLimited",
  ALL_SOURCES_FAILED: "sourcesFailed",
  UPSTREAM_FAILED: "sourcesFailed",
  AUTH_REQUIRED: "needsKey",
  INVALID_API_KEY: "needsKey",
  NOT_FOUND: "notFound",
  PRIVATE: "private",
  AGE_RESTRICTED: "ageRestricted",
  REGION_BLOCKED: "regionBlocked",
};
function plainWords(body, status, link = "") {
  if (body.code === "UNSUPPORTED_HOST")
    return typeof body.host === "string" ? t("notTikTokHost", { host: body.host }) : t("notTikTok");
  if (body.code === "LOGIN_REQUIRED")
    return t("loginRequired", { command: `tiktok-dl ${link} --cookies cookies.txt` });
  if (body.code === "INVALID_PARAMETER" && body.field && Array.isArray(body.values))
    return t("fieldOneOf", { field: body.field, values: body.values.join(", ") });
  if (body.code === "INVALID_PARAMETER" && body.field && body.min !== undefined && body.max !== undefined)
    return t("fieldBetween", { field: body.field, min: body.min, max: body.max });
  const key = PLAIN_WORDS[body.code];
  if (key) return t(key);
  return body.error ?? t("serverAnswered", { status });
}

function duration(seconds) {
  if (!seconds) return undefined;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;
}

function downloadButton(href, label, main = false) {
  return href
    ? el("a", { class: main ? "button primary" : "button secondary", href, download: "" }, label)
    : undefined;
}

function card(result) {
  const stream = result.stream ?? {};
  const author = result.author ?? {};
  const stats = result.stats ?? {};
  const facts = [
    duration(result.video?.duration) && [t("duration"), duration(result.video.duration)],
    ...["plays", "likes", "comments", "shares", "saves"].map(
      (name) => stats[name] !== undefined && [t(name), numberFormat.format(stats[name])],
    ),
  ].filter(Boolean);
  const buttons =
    result.type === "photo"
      ? [
          downloadButton(stream.zip, t("allAsZip"), true),
          ...(stream.images ?? []).map((href, i) => downloadButton(href, t("image", { number: i + 1 }))),
          downloadButton(stream.music, t("audio")),
        ]
      : [
          downloadButton(stream.video, t("withoutWatermark"), true),
          downloadButton(stream.hd, t("hd")),
          downloadButton(stream.videoWatermark, t("withWatermark")),
          downloadButton(stream.music, t("audio")),
        ];
  const who = author.username ? `@${author.username}` : undefined;
  return el(
    "article",
    { class: "card", "data-id": result.id },
    stream.thumb || result.thumb
      ? el("img", {
          class: "thumb",
          src: stream.thumb ?? result.thumb,
          alt: result.caption ? t("coverOf", { caption: result.caption }) : t("cover"),
          loading: "lazy",
        })
      : undefined,
    el(
      "div",
      { class: "body" },
      el(
        "h2",
        { class: "caption" },
        result.caption ?? (result.type === "photo" ? t("photoPost") : t("video")),
      ),
      el("p", { class: "author" }, [author.nickname, who].filter(Boolean).join(" · ") || t("unknownAuthor")),
      facts.length
        ? el(
            "dl",
            { class: "facts" },
            // Each label with its value, never split across lines.
            ...facts.map(([name, value]) => el("div", {}, el("dt", {}, name), el("dd", {}, value))),
          )
        : undefined,
      el("div", { class: "buttons", role: "group", "aria-label": t("downloads") }, ...buttons),
    ),
  );
}

function errorCard(link, message) {
  return el(
    "article",
    { class: "card error", role: "alert" },
    el(
      "div",
      { class: "body" },
      el("h2", {}, t("couldNotGet")),
      el("p", { class: "link" }, link),
      el("p", { class: "message" }, message),
    ),
  );
}

async function lookUp(link) {
  if (!holdsLink(link)) return errorCard(link, t("notALinkLine"));
  try {
    const response = await paced(
      `/api/download?url=${encodeURIComponent(link)}`,
      { headers: apiHeaders() },
      { onWait: showWait(status) },
    );
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) offerKeyField();
    // A profile, a collection, a playlist or a tab, or a short link to one (TikTok's Share button gives
    // those): the API says which list it is, and the page lists it.
    if (body.code === "UNSUPPORTED_LINK" && body.list) return listView(body.list);
    if (!response.ok || !body.result) return errorCard(link, plainWords(body, response.status, link));
    return card(body.result);
  } catch {
    return errorCard(link, t("unreachable"));
  }
}

/**
 * Saves one file of a batch, within the tunnel's limits: fetched whole (so a refusal is seen and waited
 * out, never saved as a broken file), then handed to the browser under the server's name.
 */
async function saveFile(href, onWait) {
  const response = await paced(href, {}, { onWait });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(plainWords(body, response.status));
  }
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  const url = URL.createObjectURL(await response.blob());
  const anchor = el("a", { href: url, download: name ? decodeURIComponent(name) : "" });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The main file of a post: the video without watermark, or a photo post's ZIP. */
const mainFileOf = (result) => (result.type === "photo" ? result.stream?.zip : result.stream?.video);

/** Says in `node` that a request waits for the server's limit. */
const showWait = (node) => (seconds) => {
  node.textContent = t("waitingLimit", { seconds });
};

/** An API answer's result, within the server's limits (`pace`: `onWait`, `reserve`); its failure in plain words. */
async function fetchJson(url, link, pace = {}) {
  const response = await paced(url, { headers: apiHeaders() }, pace);
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) offerKeyField();
  if (!response.ok || !body.result) throw new Error(plainWords(body, response.status, link));
  return body.result;
}

/** When the server wants a key: a field for it, kept in this browser, instead of a dead end. */
function offerKeyField() {
  if (document.getElementById("api-key")) return;
  const field = el("input", {
    id: "api-key",
    type: "password",
    autocomplete: "off",
    placeholder: t("apiKeyPlaceholder"),
    "aria-describedby": "api-key-help",
  });
  const save = el("button", { type: "button", class: "secondary" }, t("saveKey"));
  save.addEventListener("click", () => {
    const key = field.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    status.textContent = key ? t("keySaved") : t("keyRemoved");
    button.focus();
  });
  form.after(
    el(
      "div",
      { class: "api-key" },
      el("label", { for: "api-key" }, t("apiKey")),
      el("div", { class: "row" }, field, save),
      el("p", { id: "api-key-help", class: "help" }, t("apiKeyHelp")),
    ),
  );
}

/** A paste button where the browser lets a page read the clipboard. */
if (navigator.clipboard?.readText) {
  const paste = el("button", { type: "button", class: "secondary", id: "paste" }, t("paste"));
  paste.addEventListener("click", async () => {
    try {
      input.value = await navigator.clipboard.readText();
      input.focus();
    } catch {
      status.textContent = t("clipboardRefused");
    }
  });
  button.after(paste);
}

/** One post of a listing: its cover, caption, date and type, and its downloads once asked for. */
function tile(item) {
  const date = item.createdAt ? new Date(item.createdAt).toLocaleDateString() : undefined;
  const buttons = el("div", { class: "buttons", role: "group", "aria-label": t("downloads") });
  const get = el("button", { type: "button", class: "secondary" }, t("downloads"));
  get.addEventListener("click", async () => {
    get.disabled = true;
    try {
      const result = await fetchJson(`/api/download?url=${encodeURIComponent(item.url)}`, item.url);
      buttons.replaceChildren(...card(result).querySelectorAll(".buttons > a"));
    } catch (error) {
      failedTile(buttons, error.message, () => get.click());
      get.disabled = false;
    }
  });
  buttons.append(get);
  return el(
    "article",
    { class: "tile", role: "listitem", "data-id": item.id, "data-url": item.url },
    // The cover through this server, never straight from TikTok's CDN.
    item.stream?.thumb
      ? el("img", {
          class: "thumb",
          src: item.stream.thumb,
          alt: item.caption ? t("coverOf", { caption: item.caption }) : t("cover"),
          loading: "lazy",
        })
      : el("div", { class: "thumb placeholder", "aria-hidden": "true" }),
    el(
      "div",
      { class: "body" },
      el("p", { class: "caption" }, item.caption || (item.type === "photo" ? t("photoPost") : t("video"))),
      el(
        "p",
        { class: "meta" },
        [item.type === "photo" ? t("photo") : t("video"), date, duration(item.duration)]
          .filter(Boolean)
          .join(" · "),
      ),
      buttons,
    ),
  );
}

/** A tile whose download failed: why, and a button to try again (the tile is never left without one). */
function failedTile(buttons, message, retry) {
  const again = el("button", { type: "button", class: "secondary retry" }, t("tryAgain"));
  again.addEventListener("click", retry);
  buttons.replaceChildren(el("p", { class: "message", role: "alert" }, message), again);
}

/**
 * The feed of a list, for a feed reader: a plain feed URL, or, where this browser keeps an API key (the
 * server asks for keys), a feed link signed for that key, since a reader cannot send one.
 */
async function feedLinkOf(link) {
  if (!localStorage.getItem(KEY_STORAGE))
    return `${location.origin}/api/feed?url=${encodeURIComponent(link)}`;
  const response = await fetch("/api/feed-link", {
    method: "POST",
    headers: { ...apiHeaders(), "content-type": "application/json" },
    body: JSON.stringify({ url: link }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.result) throw new Error(plainWords(body, response.status, link));
  return body.result.url;
}

/** Requests of the API's budget a batch leaves for the visitor's own next lookup. */
const BATCH_RESERVE = 2;

/** A tile's main file, saved; on failure the tile says why and offers to try again. Whether it was saved. */
async function downloadTile(item, note) {
  const buttons = item.querySelector(".buttons");
  const onWait = showWait(note);
  try {
    const result = await fetchJson(
      `/api/download?url=${encodeURIComponent(item.dataset.url)}`,
      item.dataset.url,
      {
        onWait,
        reserve: BATCH_RESERVE,
      },
    );
    const href = mainFileOf(result);
    if (href) await saveFile(href, onWait);
    if (buttons?.querySelector(".retry")) buttons.replaceChildren(el("p", { class: "message" }, t("saved")));
    return true;
  } catch (error) {
    failedTile(buttons, error.message, () => downloadTile(item, note));
    return false;
  }
}

/** A profile, collection or playlist: its owner, a grid of its posts, more as the user scrolls. */
function listView(link) {
  const header = el("header", { class: "list-header" }, el("h2", {}, t("loadingList")));
  const grid = el("div", { class: "grid", role: "list" });
  const more = el("button", { type: "button", class: "secondary more", hidden: "" }, t("more"));
  const all = el(
    "button",
    { type: "button", class: "primary", disabled: "" },
    t("downloadAllShown", { shown: 0 }),
  );
  // The progress of "Download all" sits beside its button, where the person who pressed it looks.
  const note = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const follow = el("button", { type: "button", class: "secondary follow", hidden: "" }, t("follow"));
  const followNote = el("p", { class: "help follow-note", role: "status", "aria-live": "polite" });
  follow.addEventListener("click", async () => {
    try {
      const url = await feedLinkOf(link);
      const copied = await navigator.clipboard
        ?.writeText(url)
        .then(() => true)
        .catch(() => false);
      followNote.textContent = t(copied ? "followCopied" : "followShown", { url });
    } catch (error) {
      followNote.textContent = error.message;
    }
    clearTimeout(followNote.timer);
    followNote.timer = setTimeout(() => {
      followNote.textContent = "";
    }, 12_000);
  });
  // The Follow note shows in the bar that holds the button, wherever the grid is scrolled to.
  const view = el(
    "section",
    { class: "list", "aria-label": t("list") },
    header,
    el("div", { class: "buttons list-actions" }, all, follow, note, followNote),
    grid,
    more,
  );
  let cursor;
  let total;
  let loading = false;
  let started = false;
  let failed = false;

  /** What the grid holds, said on the button and in the note. */
  function showCounts(hasMore) {
    const shown = grid.children.length;
    all.disabled = shown === 0;
    all.textContent =
      total !== undefined && total > shown
        ? t("downloadAllShownOf", { shown, total })
        : t("downloadAllShown", { shown });
    note.textContent = shown === 0 ? t("noPosts") : t(hasMore ? "postsShown" : "postsShownAll", { shown });
  }

  async function loadPage() {
    // Once the first page is in, only a cursor leads further: never page one again.
    if (loading || (started && !cursor)) return;
    loading = true;
    more.disabled = true;
    try {
      const query = new URLSearchParams({ url: link });
      if (cursor) query.set("cursor", cursor);
      const page = await fetchJson(`/api/list?${query}`, link, { onWait: showWait(note) });
      if (!started) {
        const owner = page.owner ?? {};
        total = page.total;
        header.replaceChildren(
          owner.stream?.avatar
            ? el("img", { class: "avatar", src: owner.stream.avatar, alt: "" })
            : undefined,
          el("h2", {}, page.kind === "profile" ? owner.nickname || `@${owner.username}` : page.title),
          el(
            "p",
            { class: "author" },
            [
              owner.username && `@${owner.username}`,
              page.total !== undefined && t("postsCount", { count: page.total }),
            ]
              .filter(Boolean)
              .join(" · "),
          ),
        );
      }
      started = true;
      follow.hidden = false;
      const shownIds = new Set([...grid.children].map((node) => node.dataset.id));
      grid.append(...page.items.filter((item) => !shownIds.has(item.id)).map(tile));
      cursor = page.hasMore ? page.cursor : undefined;
      more.hidden = !cursor;
      more.textContent = t("more");
      failed = false;
      showCounts(Boolean(cursor));
    } catch (error) {
      if (!started) return view.replaceChildren(errorCard(link, error.message));
      // What is shown stays; the next page is offered again, by the button only (no loop on scroll).
      failed = true;
      note.textContent = t("moreFailed", { reason: error.message });
      more.textContent = t("tryAgain");
      more.hidden = false;
    } finally {
      loading = false;
      more.disabled = false;
    }
  }

  more.addEventListener("click", loadPage);
  // Loads the next page when "More" comes into view.
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !more.hidden && cursor && !failed) loadPage();
  }).observe(more);
  all.addEventListener("click", async () => {
    all.disabled = true;
    const tiles = [...grid.querySelectorAll(".tile")];
    let done = 0;
    // One after another, within the server's limits, keeping a little of the budget for the next lookup.
    for (const [index, item] of tiles.entries()) {
      note.textContent = t("downloadingOf", { number: index + 1, count: tiles.length });
      if (await downloadTile(item, note)) done++;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    note.textContent = t("downloadsStarted", { done, count: tiles.length });
    all.disabled = false;
  });
  loadPage();
  return view;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const links = linesOf(input.value);
  if (links.length === 0) {
    status.textContent = t("pasteFirst");
    input.focus();
    return;
  }
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  status.textContent = links.length === 1 ? t("lookingUpOne") : t("lookingUpMany", { count: links.length });
  results.replaceChildren();
  const cards = await Promise.all(links.slice(0, 20).map(lookUp));
  results.replaceChildren(...cards);
  const failed = cards.filter((node) => node.classList.contains("error")).length;
  // A list says what it holds in its own header.
  const listed = cards.length === 1 && cards[0].classList.contains("list");
  status.textContent = listed
    ? ""
    : failed === 0
      ? cards.length === 1
        ? t("readyOne")
        : t("readyMany", { count: cards.length })
      : t("readyAndFailed", { ready: cards.length - failed, failed });
  button.disabled = false;
  form.removeAttribute("aria-busy");
  results.querySelector(".button, .card")?.focus?.();
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});

/**
 * `/?url=<link>` fills the box and looks it up: bookmarklets, iOS Shortcuts and the Web Share Target
 * (Android's Share → tiktok-dl, which may put the link in `text` or `title` instead) all land here.
 */
function lookUpShared() {
  const query = new URLSearchParams(location.search);
  const shared = ["url", "text", "title"].map((name) => query.get(name)?.trim()).find((value) => value);
  if (!shared) return;
  input.value = shared;
  history.replaceState(null, "", location.pathname);
  form.requestSubmit();
}
lookUpShared();

// Makes the page installable (Chromium asks for a service worker); it keeps nothing offline.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
