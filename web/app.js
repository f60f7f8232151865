// The page's entry: asks /api/download for each link and shows what can be downloaded (a post's card
// from post-card.js, a list's grid from list-view.js). Plain ES modules, no build step. Every value from
// the API is inserted as text, never as HTML. Every word the page shows comes from the catalogs in i18n.js.
import { askApi, plainWords, showWait } from "./api.js";
import { LANGUAGES } from "./i18n.js";
import { listView } from "./list-view.js";
import { button, el, form, input, LANGUAGE_STORAGE, language, results, status, t, touch } from "./page.js";
import { card, errorCard } from "./post-card.js";

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
const holdsLink = (line) => /https?:\/\/|tiktokv?\.com|douyin\.com/i.test(line);

async function lookUp(link) {
  if (!holdsLink(link)) return errorCard(link, t("notALinkLine"));
  try {
    const { response, body } = await askApi(`/api/download?url=${encodeURIComponent(link)}`, {
      onWait: showWait(status),
    });
    // A profile, a collection, a playlist or a tab, or a short link to one (TikTok's Share button gives
    // those): the API says which list it is, and the page lists it.
    if (body.code === "UNSUPPORTED_LINK" && body.list) return listView(body.list);
    if (!response.ok || !body.result) return errorCard(link, plainWords(body, response.status, link));
    return card(body.result);
  } catch {
    return errorCard(link, t("unreachable"));
  }
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
