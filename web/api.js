// The page's requests to this server's API and tunnel: the visitor's key, answers read within the
// server's limits, and the API's errors in plain words (from the error's code and fields, never its sentence).
import { button, el, form, paced, status, t } from "./page.js";

/** The API key the user gave this page, kept in this browser only. */
const KEY_STORAGE = "tiktok-dl:api-key";
export const hasKey = () => Boolean(localStorage.getItem(KEY_STORAGE));
export const apiHeaders = () => {
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
export function plainWords(body, status, link = "") {
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

/** Says in `node` that a request waits for the server's limit. */
export const showWait = (node) => (seconds) => {
  node.textContent = t("waitingLimit", { seconds });
};

/** An API answer as it came, within the server's limits (`pace`: `onWait`, `reserve`). */
export async function askApi(url, pace = {}) {
  const response = await paced(url, { headers: apiHeaders() }, pace);
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) offerKeyField();
  return { response, body };
}

/** An API answer's result, within the server's limits; its failure in plain words. */
export async function fetchJson(url, link, pace = {}) {
  const { response, body } = await askApi(url, pace);
  if (!response.ok || !body.result) throw new Error(plainWords(body, response.status, link));
  return body.result;
}

/**
 * Saves one file of a batch, within the tunnel's limits: fetched whole (so a refusal is seen and waited
 * out, never saved as a broken file), then handed to the browser under the server's name.
 */
export async function saveFile(href, onWait) {
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
