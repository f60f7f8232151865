import type { Item } from "feed";
import type { ListItem, ListPage } from "../domain/lists.js";

export type FeedFormat = "atom" | "rss" | "json";

export const FEED_TYPES: Record<FeedFormat, string> = {
  atom: "application/atom+xml; charset=utf-8",
  rss: "application/rss+xml; charset=utf-8",
  json: "application/feed+json; charset=utf-8",
};

export interface FeedView {
  format: FeedFormat;
  /** This feed's own address (the `self` link), absolute. */
  selfUrl: string;
  /** This instance's origin, for the file links of the enclosures. */
  base: string;
}

/**
 * Text as XML 1.0 may hold it: lone surrogates become U+FFFD, and the characters XML forbids (C0 controls
 * but tab, LF and CR; U+FFFE, U+FFFF) are removed. Every text from TikTok passes through it.
 */
export function xmlSafe(text: string): string {
  return text.toWellFormed().replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "");
}

/** Text as HTML, escaped: what a summary is made of, and an Atom or RSS title (Atom's says `type="html"`). */
const html = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.codePointAt(0)};`);

/** A title on one line: the caption's first line, shortened; a word for a post without one. */
function titleOf(item: ListItem): string {
  const line =
    xmlSafe(item.caption ?? "")
      .split(/\r?\n/)[0]
      ?.trim() ?? "";
  if (line === "") return item.type === "photo" ? "Photo post" : "Video";
  const characters = [...line];
  return characters.length > 100 ? `${characters.slice(0, 99).join("")}…` : line;
}

/** The summary, as HTML the library escapes into the feed: the cover and the whole caption. */
function summaryOf(item: ListItem, base: string): string {
  const cover = item.stream?.thumb ? `<p><img src="${html(`${base}${item.stream.thumb}`)}" alt=""></p>` : "";
  return `${cover}<p>${html(xmlSafe(item.caption ?? "")).replaceAll("\n", "<br>")}</p>`;
}

/** Where a post's main file is: this instance's stable file link, as the enclosure points at it. */
export const fileLinkOf = (base: string, item: ListItem) =>
  `${base}/api/file?url=${encodeURIComponent(item.url)}`;

/**
 * A page of a listing as Atom 1.0, RSS 2.0 or JSON Feed 1.1, written by the `feed` library (loaded at the
 * first feed asked for: an instance nobody follows does not carry it). The library writes titles and
 * summaries as CDATA and escapes only the first `]]>` in one, so no text reaches it that could hold one:
 * they are HTML, escaped here. The body depends only on what the feed shows (its `updated` is its newest
 * post's time), so that its hash is an entity tag that changes when, and only when, an entry does.
 */
export async function renderFeed(page: ListPage, items: ListItem[], view: FeedView): Promise<string> {
  const { Feed } = await import("feed");
  const owner = page.owner;
  const fetchedAt = new Date(page.fetchedAt ?? 0);
  const name = xmlSafe(owner.nickname || owner.username || page.title);
  const title = xmlSafe(page.title);
  const feed = new Feed({
    id: view.selfUrl,
    title: page.kind === "profile" ? `${name} on TikTok` : title,
    description: `The newest posts of ${page.kind === "profile" ? `@${xmlSafe(owner.username ?? page.title)}` : `the ${page.kind} ${title}`}, through tiktok-dl.`,
    link: listLinkOf(page),
    image: owner.stream?.avatar ? `${view.base}${owner.stream.avatar}` : undefined,
    favicon: `${view.base}/favicon.svg`,
    updated: new Date(
      items.length
        ? Math.max(...items.map((item) => dateOf(item, fetchedAt).getTime()))
        : fetchedAt.getTime(),
    ),
    generator: "tiktok-dl",
    feedLinks: { [view.format]: view.selfUrl },
    author: owner.username ? { name, link: listLinkOf(page) } : undefined,
    copyright: `Posts belong to their authors on TikTok.`,
  });
  for (const item of items) feed.addItem(itemOf(item, view, fetchedAt));
  if (view.format === "atom") return atomEnclosureTypes(feed.atom1(), items, view);
  if (view.format === "rss") return feed.rss2();
  return jsonFeed11(feed.json1(), items, view);
}

const dateOf = (item: ListItem, fallback: Date) => {
  const date = new Date(item.createdAt ?? fallback);
  return Number.isNaN(date.getTime()) ? fallback : date;
};

function itemOf(item: ListItem, view: FeedView, fetchedAt: Date): Item {
  const date = dateOf(item, fetchedAt);
  const author = item.author?.username ?? undefined;
  return {
    id: item.url,
    guid: item.url,
    link: item.url,
    title: view.format === "json" ? titleOf(item) : html(titleOf(item)),
    date,
    published: date,
    description: summaryOf(item, view.base),
    author: author
      ? [{ name: xmlSafe(item.author?.nickname || author), link: `https://www.tiktok.com/@${author}` }]
      : [],
    enclosure: {
      url: fileLinkOf(view.base, item),
      type: enclosureType(item),
    },
  };
}

const enclosureType = (item: ListItem) => (item.type === "photo" ? "application/zip" : "video/mp4");

/**
 * The library types an Atom enclosure from its address's extension (`image/<ext>`), which a file link
 * has not: each enclosure gets its post's type instead (the address is the library's own escaped text).
 */
function atomEnclosureTypes(xml: string, items: ListItem[], view: FeedView): string {
  const normal = (url: string) => (URL.canParse(url) ? new URL(url).href : url);
  const types = new Map(items.map((item) => [normal(fileLinkOf(view.base, item)), enclosureType(item)]));
  return xml.replace(
    /(<link rel="enclosure" href=")([^"]*)(" type=")[^"]*(")/g,
    (whole, open, href, middle, close) => {
      const type = types.get(normal(href.replaceAll("&amp;", "&")));
      return type ? `${open}${href}${middle}${type}${close}` : whole;
    },
  );
}

/**
 * JSON Feed 1.1 from the library's 1.0: the version, `authors` for `author`, and each item's enclosure as
 * an attachment (the library writes none).
 */
function jsonFeed11(text: string, items: ListItem[], view: FeedView): string {
  const feed = JSON.parse(text) as Record<string, unknown> & { items: Record<string, unknown>[] };
  feed.version = "https://jsonfeed.org/version/1.1";
  if (feed.author) feed.authors = [feed.author];
  delete feed.author;
  feed.items = feed.items.map((entry, index) => {
    const item = items[index] as ListItem;
    const { author, ...rest } = entry;
    return {
      ...rest,
      ...(author ? { authors: [author] } : {}),
      attachments: [
        {
          url: fileLinkOf(view.base, item),
          mime_type: item.type === "photo" ? "application/zip" : "video/mp4",
        },
      ],
    };
  });
  return JSON.stringify(feed);
}

/** The list's own page on TikTok. */
function listLinkOf(page: ListPage): string {
  const owner = `https://www.tiktok.com/@${page.owner.username ?? ""}`;
  return page.kind === "profile" ? owner : `${owner}/${page.kind}/${page.id}`;
}
