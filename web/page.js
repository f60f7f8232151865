// What every part of the page shares: its elements, the visitor's language and words, the pace kept
// with the server's limits, and the one way elements are made (values inserted as text, never as HTML).
import { pickLanguage, translator } from "./i18n.js";
import { createPace } from "./pace.js";

export const form = document.getElementById("lookup");
export const input = document.getElementById("links");
export const button = document.getElementById("go");
export const status = document.getElementById("status");
export const results = document.getElementById("results");

export const LANGUAGE_STORAGE = "tiktok-dl:language";
export const language = pickLanguage(localStorage.getItem(LANGUAGE_STORAGE), navigator.languages);
export const t = translator(language);
export const numberFormat = new Intl.NumberFormat(language, { notation: "compact" });
/** Every request to this server goes through it: the page keeps within the limits the server states. */
export const paced = createPace();
/** A touch screen: no keyboard shortcut to offer. */
export const touch = matchMedia("(pointer: coarse)").matches;

/** Creates an element with text and attributes; children appended in order. */
export function el(tag, attributes = {}, ...children) {
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
