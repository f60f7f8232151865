// A profile, a collection, a playlist or a tab: its owner, a grid of its posts that grows as the visitor
// scrolls, "Download all" within the server's limits, and a feed link to follow it.
import { apiHeaders, fetchJson, hasKey, plainWords, saveFile, showWait } from "./api.js";
import { el, t } from "./page.js";
import { card, duration, errorCard, mainFileOf } from "./post-card.js";

/** Requests of the API's budget a batch leaves for the visitor's own next lookup. */
const BATCH_RESERVE = 2;

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

/** Every tile of the grid, one after another, within the server's limits; progress in `note`. */
async function downloadAll(grid, all, note) {
  all.disabled = true;
  const tiles = [...grid.querySelectorAll(".tile")];
  let done = 0;
  for (const [index, item] of tiles.entries()) {
    note.textContent = t("downloadingOf", { number: index + 1, count: tiles.length });
    if (await downloadTile(item, note)) done++;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  note.textContent = t("downloadsStarted", { done, count: tiles.length });
  all.disabled = false;
}

/**
 * The feed of a list, for a feed reader: a plain feed URL, or, where this browser keeps an API key (the
 * server asks for keys), a feed link signed for that key, since a reader cannot send one.
 */
async function feedLinkOf(link) {
  if (!hasKey()) return `${location.origin}/api/feed?url=${encodeURIComponent(link)}`;
  const response = await fetch("/api/feed-link", {
    method: "POST",
    headers: { ...apiHeaders(), "content-type": "application/json" },
    body: JSON.stringify({ url: link }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.result) throw new Error(plainWords(body, response.status, link));
  return body.result.url;
}

/** The Follow button and its note: the list's feed link, copied where the browser lets the page. */
function followControls(link) {
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
  return { follow, followNote };
}

/** The list's header: the owner's avatar, the list's name, and how many posts it holds. */
function ownerHeader(page) {
  const owner = page.owner ?? {};
  return [
    owner.stream?.avatar ? el("img", { class: "avatar", src: owner.stream.avatar, alt: "" }) : undefined,
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
  ];
}

/** What the grid holds, said on the "Download all" button and in the note. */
function showCounts({ grid, all, note }, total, hasMore) {
  const shown = grid.children.length;
  all.disabled = shown === 0;
  all.textContent =
    total !== undefined && total > shown
      ? t("downloadAllShownOf", { shown, total })
      : t("downloadAllShown", { shown });
  note.textContent = shown === 0 ? t("noPosts") : t(hasMore ? "postsShown" : "postsShownAll", { shown });
}

/** A profile, collection or playlist: its owner, a grid of its posts, more as the user scrolls. */
export function listView(link) {
  const parts = {
    header: el("header", { class: "list-header" }, el("h2", {}, t("loadingList"))),
    grid: el("div", { class: "grid", role: "list" }),
    more: el("button", { type: "button", class: "secondary more", hidden: "" }, t("more")),
    all: el(
      "button",
      { type: "button", class: "primary", disabled: "" },
      t("downloadAllShown", { shown: 0 }),
    ),
    // The progress of "Download all" sits beside its button, where the person who pressed it looks.
    note: el("p", { class: "status", role: "status", "aria-live": "polite" }),
  };
  const { header, grid, more, all, note } = parts;
  const { follow, followNote } = followControls(link);
  // The Follow note shows in the bar that holds the button, wherever the grid is scrolled to.
  const view = el(
    "section",
    { class: "list", "aria-label": t("list") },
    header,
    el("div", { class: "buttons list-actions" }, all, follow, note, followNote),
    grid,
    more,
  );
  const state = { cursor: undefined, total: undefined, loading: false, started: false, failed: false };

  function showPage(page) {
    if (!state.started) {
      state.total = page.total;
      header.replaceChildren(...ownerHeader(page));
    }
    state.started = true;
    follow.hidden = false;
    const shownIds = new Set([...grid.children].map((node) => node.dataset.id));
    grid.append(...page.items.filter((item) => !shownIds.has(item.id)).map(tile));
    state.cursor = page.hasMore ? page.cursor : undefined;
    more.hidden = !state.cursor;
    more.textContent = t("more");
    state.failed = false;
    showCounts(parts, state.total, Boolean(state.cursor));
  }

  async function loadPage() {
    // Once the first page is in, only a cursor leads further: never page one again.
    if (state.loading || (state.started && !state.cursor)) return;
    state.loading = true;
    more.disabled = true;
    try {
      const query = new URLSearchParams({ url: link });
      if (state.cursor) query.set("cursor", state.cursor);
      showPage(await fetchJson(`/api/list?${query}`, link, { onWait: showWait(note) }));
    } catch (error) {
      if (!state.started) return view.replaceChildren(errorCard(link, error.message));
      // What is shown stays; the next page is offered again, by the button only (no loop on scroll).
      state.failed = true;
      note.textContent = t("moreFailed", { reason: error.message });
      more.textContent = t("tryAgain");
      more.hidden = false;
    } finally {
      state.loading = false;
      more.disabled = false;
    }
  }

  more.addEventListener("click", loadPage);
  // Loads the next page when "More" comes into view.
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !more.hidden && state.cursor && !state.failed)
      loadPage();
  }).observe(more);
  all.addEventListener("click", () => downloadAll(grid, all, note));
  loadPage();
  return view;
}
