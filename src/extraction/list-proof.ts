import { createHash } from "node:crypto";
import { SourceFailure } from "../domain/errors.js";
import type { ListAnswer, ListItem } from "../domain/lists.js";
import type { ListLink } from "../domain/tiktok-url.js";

/**
 * A list page proves whose it is, as a post answer proves its id: on a profile every item's author is the
 * listed account (by handle, or by the account the page names when the link named it by id). A page with
 * one foreign item, or an item that names no author, is refused whole: a source that mixes in another
 * account's posts cannot be trusted with the rest.
 */
export function checkOwner(link: ListLink, answer: ListAnswer, source: string): void {
  if (link.list !== "profile") return;
  const handle = link.username.toLowerCase();
  const ownerHandle = answer.owner.username?.toLowerCase();
  // A link by secUid or numeric id names the account only through the page that answered it.
  const byHandle = !/^(MS4wLjABAAAA|\d+$)/.test(link.username);
  const isOwner = (item: ListItem) => {
    const author = item.author;
    if (!author) return false;
    const username = author.username?.toLowerCase();
    if (username === handle) return true;
    if (byHandle) return false;
    return (
      (username !== undefined && username === ownerHandle) ||
      (author.id !== undefined && author.id === answer.owner.id)
    );
  };
  const foreign = answer.items.find((item) => !isOwner(item));
  if (foreign)
    throw new SourceFailure(
      "invalid_result",
      `${source} listed a post of ${foreign.author?.username ? `@${foreign.author.username}` : "no named author"} as @${link.username}'s`,
    );
}

/** A short tag of a post id, carried in the next cursor to recognise the posts a page already gave. */
export const seenTag = (id: string) => createHash("sha256").update(id).digest("base64url").slice(0, 8);

/**
 * The page without the posts it repeats (within itself, or from the page before, whose tags the cursor
 * carries). A source that answered posts but nothing new is going round in circles: the listing ends there.
 */
export function withoutRepeats(
  answer: ListAnswer,
  seenBefore: readonly string[] = [],
): { answer: ListAnswer; stuck: boolean } {
  const seen = new Set(seenBefore);
  const items = answer.items.filter((item) => {
    const tag = seenTag(item.id);
    if (seen.has(tag)) return false;
    seen.add(tag);
    return true;
  });
  const stuck = answer.items.length > 0 && items.length === 0;
  return { answer: { ...answer, items, next: stuck ? undefined : answer.next }, stuck };
}
