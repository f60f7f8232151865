// A post as the page shows it: its cover, caption, author and counts, and a button per file.
import { el, numberFormat, t } from "./page.js";

export function duration(seconds) {
  if (!seconds) return undefined;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;
}

function downloadButton(href, label, main = false) {
  return href
    ? el("a", { class: main ? "button primary" : "button secondary", href, download: "" }, label)
    : undefined;
}

export function card(result) {
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

export function errorCard(link, message) {
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

/** The main file of a post: the video without watermark, or a photo post's ZIP. */
export const mainFileOf = (result) => (result.type === "photo" ? result.stream?.zip : result.stream?.video);
