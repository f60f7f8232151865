/**
 * Accounts, collections and playlists the fakes serve (docs/upstreams/tiktok.md §6): invented, in the
 * shapes TikTok's web app answers. The fake TikTok and tikwm's fake read the same accounts.
 */
export interface FakePost {
  id: string;
  /** Unix seconds; the id's top 32 bits are the same time, as on TikTok. */
  createTime: number;
  photo: boolean;
  /** The caption (`desc`); `post <last 4 digits> #fake` when absent. */
  caption?: string;
}

export interface FakeProfile {
  username: string;
  secUid: string;
  userId: string;
  nickname: string;
  /** Newest first. */
  posts: FakePost[];
  private?: boolean;
  /** The profile page is a stub without secUid: the embed page and one post give it. */
  pageWithoutSecUid?: boolean;
  /** How many device ids TikTok treats as stale: for them it repeats the first page whatever the cursor. */
  staleDevices?: number;
  /** TikTok's list endpoint refuses this account (403). */
  refuseLists?: boolean;
  /**
   * How tikwm's fake misbehaves for this account: `foreign` answers another account's posts, `repeat`
   * the same first page for every cursor, saying there is more; `no-info` fails the account's card
   * (`/api/user/info`) and lists its posts as usual.
   */
  tikwm?: "foreign" | "repeat" | "no-info";
  /** Each of TikTok's list answers for this account comes this late (ms). */
  listDelayMs?: number;
  /** This many list answers come back as an empty 200 body first (then the list as usual). */
  emptyBodies?: number;
  /** The account has posts (`videoCount`), but its listing answers nothing to visitors. */
  hiddenPosts?: boolean;
  /** Post ids the embed page lists before the account's own (a deleted one, say). */
  embedFirst?: string[];
  /**
   * The account's tabs (docs/upstreams/tiktok.md §8): their posts (by `author`, another account, except
   * stories), and whether a visitor without a login may see them.
   */
  tabs?: Partial<Record<"liked" | "saved" | "reposts" | "stories", FakeTab>>;
  /** A private account whose posts a logged-in visitor (a `sessionid` cookie) may list. */
  visibleToLogin?: boolean;
}

export interface FakeTab {
  posts: FakePost[];
  /** Whose posts they are (liked, saved and reposted posts belong to others). */
  author?: Pick<FakeProfile, "username" | "nickname" | "userId" | "secUid">;
  public?: boolean;
  /** TikTok's bad moments: this many answers come back empty with "more" still true (the cursor unmoved). */
  emptyAnswers?: number;
  /** reposts: the answer says "more" with `HasMoreAfter`, without `hasMore` (gallery-dl reads either). */
  moreFlag?: "HasMoreAfter";
  /** How many device ids TikTok treats as stale for this tab: for them it repeats the first page. */
  staleDevices?: number;
  /** TikTok answers no `itemList` at all, with `hasMore: false`: nothing to list (gallery-dl: no items). */
  noItemList?: boolean;
  /** Cursors TikTok gets wrong, each once, on the answer for the page that starts at `at` (a position). */
  cursorSlips?: CursorSlip[];
  /** This many answers come back as an empty 200 body first (as profiles can). */
  emptyBodies?: number;
}

/**
 * liked and saved: the answer has no `cursor`, the one asked again (`unchanged`) or a higher one (`up`);
 * stories: no `MaxCursor`, the one asked (`unchanged`) or a lower one (`down`).
 */
export interface CursorSlip {
  at: number;
  slip: "missing" | "unchanged" | "up" | "down";
}

export interface FakeCollection {
  kind: "collection" | "playlist";
  id: string;
  title: string;
  owner: string;
  posts: FakePost[];
  /** Positions TikTok answers nothing for (removed or hidden posts). */
  hidden?: number[];
  /** From this offset on, TikTok refuses the pages (a non-zero statusCode). */
  refuseFrom?: number;
  /**
   * The `cursor` an answer carries: a playlist's is the next offset (`offset + count`); a collection's
   * none (yt-dlp reads none), or, to hold a client to yt-dlp's offset rule, `received` (the offset plus
   * the items shown, short of the positions TikTok left out); `none` for a playlist without one.
   */
  answerCursor?: "received" | "none";
  /** This many answers come back as an empty 200 body first (as profiles can). */
  emptyBodies?: number;
}

const DAY = 86_400;

/** A post id whose time is `seconds` (TikTok's ids carry their creation time). */
export const postIdAt = (seconds: number, salt: number) =>
  ((BigInt(seconds) << 32n) | BigInt((salt * 2_654_435_761) >>> 0)).toString();

/**
 * `count` posts, newest first, a day apart from `newest` back; every seventh a photo post; after post
 * `gapAfter`, a gap of `gapDays` days without posts.
 */
export function makePosts(
  count: number,
  options: { newest?: number; gapAfter?: number; gapDays?: number; salt?: number } = {},
): FakePost[] {
  let time = options.newest ?? Math.floor(Date.now() / 1000) - 3600;
  return Array.from({ length: count }, (_, index) => {
    if (index > 0) time -= DAY;
    if (options.gapAfter !== undefined && index === options.gapAfter + 1)
      time -= (options.gapDays ?? 10) * DAY;
    return { id: postIdAt(time, index + (options.salt ?? 0)), createTime: time, photo: index % 7 === 3 };
  });
}

export function makeProfile(
  username: string,
  posts: FakePost[],
  extra: Partial<FakeProfile> = {},
): FakeProfile {
  const suffix = Buffer.from(username.padEnd(48, "x")).toString("base64url").slice(0, 64);
  return {
    username,
    secUid: `MS4wLjABAAAA${suffix}`,
    // Distinct per handle (stories are asked by this id); the hash is kept small at every step, or long
    // handles lose their last characters to floating point and share an id.
    userId: String(
      6_800_000_000_000_000_000n +
        BigInt([...username].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) % 1_000_000_007, 7)),
    ),
    nickname: username.replace(/[._]/g, " "),
    posts,
    ...extra,
  };
}

/** The accounts every fake knows (tests add their own to the fake TikTok's map). */
export const SAMPLE_PROFILES = new Map<string, FakeProfile>(
  [
    makeProfile("grid.maker", makePosts(130, { gapAfter: 60, gapDays: 12 }), { staleDevices: 1 }),
    makeProfile("quiet.one", []),
    makeProfile("locked.down", makePosts(5, { salt: 7900 }), { private: true }),
    makeProfile("no.secuid", makePosts(40, { salt: 900 }), { pageWithoutSecUid: true }),
    makeProfile("lists.refused", makePosts(50, { salt: 1900 }), { refuseLists: true }),
    makeProfile("tiny.list", makePosts(4, { salt: 2900 })),
    makeProfile("foreign.posts", makePosts(10, { salt: 3900 }), { refuseLists: true, tikwm: "foreign" }),
    makeProfile("endless.page", makePosts(34, { salt: 4900 }), { refuseLists: true, tikwm: "repeat" }),
  ].map((profile) => [profile.username, profile]),
);

export const SAMPLE_COLLECTIONS = new Map<string, FakeCollection>(
  [
    {
      kind: "collection" as const,
      id: "7300000000000000001",
      title: "Best bits",
      owner: "grid.maker",
      posts: makePosts(45, { salt: 300 }),
    },
    {
      kind: "playlist" as const,
      id: "7300000000000000002",
      title: "Lake series",
      owner: "grid.maker",
      posts: makePosts(33, { salt: 600 }),
    },
  ].map((collection) => [collection.id, collection]),
);

/** A list item as TikTok's web app answers it: the post page's itemStruct, the fields a listing reads. */
export function itemStructOf(
  post: FakePost,
  owner: Pick<FakeProfile, "username" | "nickname" | "userId" | "secUid"> & { private?: boolean },
) {
  // TikTok signs its image addresses when it answers, for about two days (rounded here to the hour).
  const expires = Math.ceil((Date.now() / 1000 + 2 * DAY) / 3600) * 3600;
  const image = `https://p16-common-sign.tiktokcdn-us.com/tos-useast8-i-photomode-tx2/${post.id}~tplv-photomode-image.jpeg?x-expires=${expires}&x-signature=x`;
  return {
    id: post.id,
    desc: post.caption ?? `post ${post.id.slice(-4)} #fake`,
    createTime: post.createTime,
    author: {
      id: owner.userId,
      uniqueId: owner.username,
      nickname: owner.nickname,
      secUid: owner.secUid,
      privateAccount: owner.private === true,
    },
    video: {
      id: post.id,
      duration: post.photo ? 0 : 15 + (post.createTime % 40),
      cover: `https://p16-common-sign.tiktokcdn-us.com/tos-useast8-p-0068-tx2/${post.id}~tplv-tiktokx-origin.image?x-expires=${expires}`,
      playAddr: "",
    },
    ...(post.photo
      ? {
          imagePost: {
            images: [{ imageURL: { urlList: [image] } }],
            cover: { imageURL: { urlList: [image] } },
          },
        }
      : {}),
    stats: { playCount: 1000 + (post.createTime % 997), diggCount: 50, commentCount: 3, shareCount: 1 },
    statsV2: {
      playCount: String(1000 + (post.createTime % 997)),
      diggCount: "50",
      commentCount: "3",
      shareCount: "1",
    },
  };
}
