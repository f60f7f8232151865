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

/** A title on one line: the caption's first line, shortened; a word for a post without one. */
function titleOf(item: ListItem): string {
  const line = item.caption?.split(/\r?\n/)[0]?.trim() ?? "";
  if (line === "") return item.type === "photo" ? "Photo post" : "Video";
  const characters = [...line];
  return characters.length > 100 ? `${characters.slice(0, 99).join("")}…` : line;
}

/** The summary, as HTML the library escapes into the feed: the cover and the whole caption. */
function summaryOf(item: ListItem, base: string): string {
  const html = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.codePointAt(0)};`);
  const cover = item.stream?.thumb ? `<p><img src="${html(`${base}${item.stream.thumb}`)}" alt=""></p>` : "";
  return `${cover}<p>${html(item.caption ?? "").replaceAll("\n", "<br>")}</p>`;
}

/** Where a post's main file is: this instance's stable file link, as the enclosure points at it. */
export const fileLinkOf = (base: string, item: ListItem) =>
  `${base}/api/file?url=${encodeURIComponent(item.url)}`;

/**
 * A page of a listing as Atom 1.0, RSS 2.0 or JSON Feed 1.1, written by the `feed` library (loaded at the
 * first feed asked for: an instance nobody follows does not carry it).
 */
export async function renderFeed(page: ListPage, items: ListItem[], view: FeedView): Promise<string> {
  const { Feed } = await import("feed");
  const owner = page.owner;
  const updated = new Date(page.fetchedAt ?? Date.now());
  const feed = new Feed({
    id: view.selfUrl,
    title:
      page.kind === "profile" ? `${owner.nickname || owner.username || page.title} on TikTok` : page.title,
    description: `The newest posts of ${page.kind === "profile" ? `@${owner.username ?? page.title}` : `the ${page.kind} ${page.title}`}, through tiktok-dl.`,
    link: listLinkOf(page),
    image: owner.stream?.avatar ? `${view.base}${owner.stream.avatar}` : undefined,
    favicon: `${view.base}/favicon.svg`,
    updated,
    generator: "tiktok-dl",
    feedLinks: { [view.format]: view.selfUrl },
    author: owner.username ? { name: owner.nickname || owner.username, link: listLinkOf(page) } : undefined,
    copyright: `Posts belong to their authors on TikTok.`,
  });
  for (const item of items) feed.addItem(itemOf(item, view));
  if (view.format === "atom") return atomEnclosureTypes(feed.atom1(), items, view);
  if (view.format === "rss") return feed.rss2();
  return jsonFeed11(feed.json1(), items, view);
}

function itemOf(item: ListItem, view: FeedView): Item {
  const date = new Date(item.createdAt ?? Date.now());
  const author = item.author?.username ?? undefined;
  return {
    id: item.url,
    guid: item.url,
    link: item.url,
    title: titleOf(item),
    date,
    published: date,
    description: summaryOf(item, view.base),
    author: author
      ? [{ name: item.author?.nickname || author, link: `https://www.tiktok.com/@${author}` }]
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
