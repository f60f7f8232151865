// The page's only script: asks /api/download for each link and shows what can be downloaded.
// Plain ES module, no build step. Every value from the API is inserted as text, never as HTML.

const form = document.getElementById("lookup");
const input = document.getElementById("links");
const button = document.getElementById("go");
const status = document.getElementById("status");
const results = document.getElementById("results");

const numberFormat = new Intl.NumberFormat(undefined, { notation: "compact" });

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

function linksOf(text) {
  return text
    .split(/\s+/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function duration(seconds) {
  if (!seconds) return undefined;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;
}

function downloadButton(href, label) {
  return href ? el("a", { class: "button", href, download: "" }, label) : undefined;
}

function card(result) {
  const stream = result.stream ?? {};
  const author = result.author ?? {};
  const stats = result.stats ?? {};
  const facts = [
    duration(result.video?.duration) && ["Duration", duration(result.video.duration)],
    stats.plays !== undefined && ["Plays", numberFormat.format(stats.plays)],
    stats.likes !== undefined && ["Likes", numberFormat.format(stats.likes)],
    stats.comments !== undefined && ["Comments", numberFormat.format(stats.comments)],
    stats.shares !== undefined && ["Shares", numberFormat.format(stats.shares)],
  ].filter(Boolean);
  const buttons =
    result.type === "photo"
      ? [
          downloadButton(stream.zip, "All as ZIP"),
          ...(stream.images ?? []).map((href, i) => downloadButton(href, `Image ${i + 1}`)),
          downloadButton(stream.music, "Audio"),
        ]
      : [
          downloadButton(stream.video, "Without watermark"),
          downloadButton(stream.hd, "HD"),
          downloadButton(stream.videoWatermark, "With watermark"),
          downloadButton(stream.music, "Audio"),
        ];
  const who = author.username ? `@${author.username}` : undefined;
  return el(
    "article",
    { class: "card", "data-id": result.id },
    stream.thumb || result.thumb
      ? el("img", {
          class: "thumb",
          src: stream.thumb ?? result.thumb,
          alt: result.caption ? `Cover: ${result.caption}` : "Cover",
          loading: "lazy",
        })
      : undefined,
    el(
      "div",
      { class: "body" },
      el("h2", { class: "caption" }, result.caption ?? (result.type === "photo" ? "Photo post" : "Video")),
      el("p", { class: "author" }, [author.nickname, who].filter(Boolean).join(" · ") || "Unknown author"),
      facts.length
        ? el(
            "dl",
            { class: "facts" },
            ...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
          )
        : undefined,
      el("div", { class: "buttons", role: "group", "aria-label": "Downloads" }, ...buttons),
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
      el("h2", {}, "Could not get this link"),
      el("p", { class: "link" }, link),
      el("p", { class: "message" }, message),
    ),
  );
}

async function lookUp(link) {
  try {
    const response = await fetch(`/api/download?url=${encodeURIComponent(link)}`, {
      headers: { accept: "application/json" },
    });
    const body = await response
      .json()
      .catch(() => ({ error: `The server answered HTTP ${response.status}.` }));
    if (!response.ok || !body.result)
      return errorCard(link, body.error ?? `The server answered HTTP ${response.status}.`);
    return card(body.result);
  } catch {
    return errorCard(link, "The server could not be reached. Check your connection and try again.");
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const links = linksOf(input.value);
  if (links.length === 0) {
    status.textContent = "Paste at least one TikTok link.";
    input.focus();
    return;
  }
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  status.textContent = links.length === 1 ? "Looking it up…" : `Looking up ${links.length} links…`;
  results.replaceChildren();
  const cards = await Promise.all(links.slice(0, 20).map(lookUp));
  results.replaceChildren(...cards);
  const failed = cards.filter((node) => node.classList.contains("error")).length;
  status.textContent =
    failed === 0
      ? `Ready: ${cards.length} result${cards.length > 1 ? "s" : ""}.`
      : `${cards.length - failed} ready, ${failed} failed.`;
  button.disabled = false;
  form.removeAttribute("aria-busy");
  results.querySelector(".button, .card")?.focus?.();
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});
