import type { PostRef } from "./platforms.js";

/**
 * A story as its listing gave it: a story may have no page a visitor can open, so its files come from
 * the item its list returned, fetched with that listing's session (its cookies and its way out, which the
 * platform bound the story's media to).
 */
export interface KeptStory {
  item: Record<string, unknown>;
  cookie: string;
  route: string;
  /** Listed with the operator's login: given only to a client allowed to see what it shows. */
  viaLogin: boolean;
}

/**
 * Where listed stories wait for the downloads that follow their listing: in memory on one machine, in
 * Redis when several instances share it (the download may reach another instance than the listing).
 * Like the cache, it may forget and never fails a request.
 */
export interface KeptStories {
  keep(stories: readonly { post: PostRef; story: KeptStory }[], ttlMs: number): Promise<void>;
  find(post: PostRef): Promise<KeptStory | undefined>;
}
