import { createHash, randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tiktokSample } from "../fixtures/index.js";
import { type LocalServer, listenLocally } from "../support/local-server.js";
import { parseCookies } from "./cookies.js";
import {
  type CursorSlip,
  type FakeCollection,
  type FakePost,
  type FakeProfile,
  type FakeTab,
  itemStructOf,
  makeProfile,
  SAMPLE_COLLECTIONS,
  SAMPLE_PROFILES,
} from "./profiles.js";

/**
 * A local stand-in for TikTok's web and CDN hosts (docs/upstreams/tiktok.md §5). The service reaches it through
 * UPSTREAM_TIKTOK, which keeps path and query: every TikTok host lands here, so routes go by path.
 */

/** Post ids of the shared samples (docs/upstreams/tiktok.md §5). */
export const SAMPLE_IDS = {
  video: "7558765792041131240",
  photo: "7554852699390611157",
  deleted: "7478545426949232344",
  private: "7537667478201113610",
  privateAccount: "7516192719603965089",
  regionBlocked: "7546257327985820689",
  ageRestricted: "7494717791285863195",
} as const;

/** What the fake answers for one post id. */
export type Scenario =
  | {
      kind: "sample";
      sample: string;
      variant?: "struct-only";
      largeVideoBytes?: number;
      /** The account the post belongs to (a listed post's page names its own author). */
      author?: { username: string; secUid: string };
      /**
       * The author's account is private: its page is TikTok's private-account answer, except to a login
       * (a `sessionid`) when `visibleToLogin` (the login follows the account), which sees the post with
       * `author.privateAccount` true.
       */
      privateAccount?: { visibleToLogin: boolean };
    }
  | { kind: "item-missing" }
  | { kind: "blank-10204" }
  | { kind: "captcha" }
  | { kind: "malformed" }
  /** The desktop page is a stub; the mobile page (m.tiktok.com/v/ID.html, mobile UA) is whole. */
  | { kind: "desktop-stub"; sample: string }
  | { kind: "stub" }
  | { kind: "login" }
  | { kind: "status"; status: number }
  | { kind: "slow"; ms: number; sample: string }
  /** The WAF page, every time, even after a correct solution. */
  | { kind: "waf-always" };

/** Extra ids (plausible: their top bits decode to 2025) for the states the samples do not cover. */
export const SCENARIO_IDS = {
  missing: "7558765792041131001",
  blank10204: "7558765792041131002",
  captcha: "7558765792041131003",
  malformed: "7558765792041131004",
  desktopStub: "7558765792041131005",
  stub: "7558765792041131006",
  login: "7558765792041131007",
  http403: "7558765792041131008",
  http429: "7558765792041131009",
  http500: "7558765792041131010",
  slow: "7558765792041131011",
  wafAlways: "7558765792041131012",
  structOnly: "7558765792041131013",
  /** A video whose watermark-free file is 64 MiB (streamed by the fake, never held in memory). */
  large: "7558765792041131014",
} as const;

function defaultScenarios(): Map<string, Scenario> {
  return new Map<string, Scenario>([
    [SAMPLE_IDS.video, { kind: "sample", sample: "video" }],
    [SAMPLE_IDS.photo, { kind: "sample", sample: "photo" }],
    [SAMPLE_IDS.deleted, { kind: "sample", sample: "deleted" }],
    [SAMPLE_IDS.private, { kind: "sample", sample: "private" }],
    [SAMPLE_IDS.privateAccount, { kind: "sample", sample: "private-account" }],
    [SAMPLE_IDS.regionBlocked, { kind: "sample", sample: "region-blocked" }],
    [SAMPLE_IDS.ageRestricted, { kind: "sample", sample: "age-restricted" }],
    [SCENARIO_IDS.missing, { kind: "item-missing" }],
    [SCENARIO_IDS.blank10204, { kind: "blank-10204" }],
    [SCENARIO_IDS.captcha, { kind: "captcha" }],
    [SCENARIO_IDS.malformed, { kind: "malformed" }],
    [SCENARIO_IDS.desktopStub, { kind: "desktop-stub", sample: "video" }],
    [SCENARIO_IDS.stub, { kind: "stub" }],
    [SCENARIO_IDS.login, { kind: "login" }],
    [SCENARIO_IDS.http403, { kind: "status", status: 403 }],
    [SCENARIO_IDS.http429, { kind: "status", status: 429 }],
    [SCENARIO_IDS.http500, { kind: "status", status: 500 }],
    [SCENARIO_IDS.slow, { kind: "slow", ms: 1500, sample: "video" }],
    [SCENARIO_IDS.wafAlways, { kind: "waf-always" }],
    [SCENARIO_IDS.structOnly, { kind: "sample", sample: "video", variant: "struct-only" }],
    [SCENARIO_IDS.large, { kind: "sample", sample: "video", largeVideoBytes: 64 * 1024 * 1024 }],
  ]);
}

/** Short codes (docs/upstreams/tiktok.md §5 "Short links"): where each one leads. */
const SHORT_CODES: Record<
  string,
  {
    status: number;
    location?: string;
    bodyOnly?: boolean;
    page?: "waf" | "stub";
    /** Where a link-preview crawler (`facebookexternalhit/1.1`) is sent instead of getting the page. */
    crawlers?: string;
  }
> = {
  ZMriver01: {
    status: 301,
    location: `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}?_r=1&_t=8qXk2Lm9`,
  },
  ZMnouser1: { status: 301, location: `https://www.tiktok.com/@/video/${SAMPLE_IDS.video}` },
  ZMphoto01: { status: 302, location: `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}?_r=1` },
  // cobalt reads the body, not the header: one code answers with the body only.
  ZMbody001: {
    status: 301,
    location: `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`,
    bodyOnly: true,
  },
  ZMevil001: { status: 301, location: "https://evil.test/@river.cooks/video/7558765792041131240" },
  ZMgone001: { status: 404 },
  ZMnotfnd1: { status: 301, location: "https://www.tiktok.com/notfound" },
  ZMhop0001: { status: 301, location: "https://vt.tiktok.com/ZMriver01/" },
  ZMloop001: { status: 301, location: "https://vm.tiktok.com/ZMloop001/" },
  ZMerr5001: { status: 503 },
  ZMdeleted: { status: 301, location: `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.deleted}` },
  // Not every answer is a redirect: TikTok's WAF and stub pages come back as 200s.
  ZMwafpage: { status: 200, page: "waf" },
  ZMstub001: { status: 200, page: "stub" },
  // A challenge for browsers, a plain redirect for link-preview crawlers (how yt-dlp and gallery-dl resolve).
  ZMcrawl01: {
    status: 200,
    page: "waf",
    crawlers: `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}?_r=1`,
  },
  // Short links lead to profiles, collections and playlists too.
  ZMprofile: { status: 301, location: "https://www.tiktok.com/@grid.maker?_r=1&_t=8qXk2Lm9" },
  // And to a person's tab, as the app shares one.
  ZMliked01: { status: 301, location: "https://www.tiktok.com/@tab.owner/liked?_r=1&_t=8qXk2Lm9" },
  // How TikTok answers a dead code: a redirect to its home page.
  ZMdead001: { status: 301, location: "https://www.tiktok.com/?_r=1" },
};

export interface FakeTikTokOptions {
  /** Answer first visits with the WAF proof-of-work page (default true). */
  waf?: boolean;
  /** The largest solution the fake picks (TikTok's bound is 1e6; small keeps tests fast). */
  wafMaxSolution?: number;
  /**
   * How long a session that got past the WAF (its `ttwid`) is let through without a new challenge, as
   * TikTok lets a browser that keeps its cookies through (docs/upstreams/tiktok.md §7); 0 = never.
   */
  wafSessionMs?: number;
  /**
   * Real media instead of the byte pattern the tests check: a two-second MP4 with sound (a red band on
   * the watermarked one) and an MP3, from test/fixtures/media (the demo's, so a player opens its files).
   */
  realMedia?: boolean;
}

/** The demo's media files, read once when a fake asks for them. */
let demoMedia: { clean: Buffer; watermark: Buffer; audio: Buffer } | undefined;
export const realMediaFiles = () => {
  const file = (name: string) => readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url));
  demoMedia ??= {
    clean: file("demo-video.mp4"),
    watermark: file("demo-video-watermark.mp4"),
    audio: file("demo-audio.mp3"),
  };
  return demoMedia;
};

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

interface Challenge {
  solution: number;
  issuedAt: number;
  extraValue: string;
}

const CHALLENGE_COOKIE = "_wafchallengeid";
const EXTRA_COOKIE = "waforiginalreid";
const CLEARANCE_MS = 120_000;
const VIDEO_LIFETIME_S = 6 * 3600;

export class FakeTikTok {
  readonly requests: FakeRequest[] = [];
  /** Media responses started, and those whose client went away before the end. */
  readonly mediaStreams = { opened: 0, aborted: 0 };
  readonly scenarios = defaultScenarios();
  /** Accounts, collections and playlists (docs/upstreams/tiktok.md §6); tests may add their own. */
  readonly profiles = new Map<string, FakeProfile>(SAMPLE_PROFILES);
  readonly collections = new Map<string, FakeCollection>(SAMPLE_COLLECTIONS);
  /**
   * The following feed (docs/upstreams/tiktok.md §8) of whoever sends a `sessionid`: the login's own
   * account (TikTok may list it among the followed, as gallery-dl notes) and, in order, the handles of
   * the accounts it follows that have stories (their `tabs.stories`, shown whether public or not).
   */
  readonly following = {
    viewer: makeProfile("the.viewer", []),
    accounts: [] as string[],
    /** Entries of `storyUsers` without a numeric id, at these positions (an account TikTok names oddly). */
    strayEntriesAt: [] as number[],
    /** The next this many device ids the feed meets are stale: for them it answers its first page again. */
    staleDevices: 0,
    /** This many `story/user_list` answers come back as an empty 200 body first (as profiles can). */
    emptyBodies: 0,
  };
  /** Device ids the following feed has met, and those of them it treats as stale. */
  private readonly feedDevices = { seen: new Set<string>(), stale: new Set<string>() };
  /** Device ids each account's list has seen, in order (the first `staleDevices` of them are stale). */
  private readonly devices = new Map<string, string[]>();
  /** Where each device's liked or saved listing has got to (`<user>:<tab>:<device>`). */
  private readonly reached = new Map<string, number>();
  /**
   * Logins TikTok knows: a `sessionid` and whose account it is. A private tab opens only to its owner's
   * login; a `sessionid` not here is no one's.
   */
  readonly logins = new Map<string, string>();
  private readonly challenges = new Map<string, Challenge>();
  private readonly chainTokens = new Set<string>();
  /** `ttwid` values handed out with a data page, and when. */
  private readonly sessions = new Map<string, number>();
  /** Each `creator/item_list` page answered: whose, and the `count` it was asked for. */
  readonly listedPages: { username: string; count: string }[] = [];
  private readonly emptyBodiesGiven = new Map<string, number>();
  /** WAF challenges handed out (each a proof of work for the client). */
  wafChallenges = 0;
  /** How long the image host takes to answer (a grid's covers held open together). */
  imageDelayMs = 0;
  private server: LocalServer | undefined;
  private origin = "";

  constructor(private readonly options: FakeTikTokOptions = {}) {
    for (const profile of this.profiles.values()) this.servePosts(profile.posts, profile);
    for (const collection of this.collections.values()) this.servePosts(collection.posts);
  }

  /** Serves these posts' pages (the video or photo sample under their ids), as a listing leads to them. */
  servePosts(
    posts: readonly FakePost[],
    owner?: Pick<FakeProfile, "username" | "secUid" | "private" | "visibleToLogin">,
  ): void {
    const author = owner ? { username: owner.username, secUid: owner.secUid } : undefined;
    const privateAccount = owner?.private ? { visibleToLogin: owner.visibleToLogin === true } : undefined;
    for (const post of posts)
      this.scenarios.set(post.id, {
        kind: "sample",
        sample: post.photo ? "photo" : "video",
        author,
        ...(privateAccount ? { privateAccount } : {}),
      });
  }

  get url(): string {
    return this.origin;
  }

  async start(): Promise<this> {
    this.server = await listenLocally((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
    });
    this.origin = this.server.url;
    return this;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  /** Forgets every session it handed out: media URLs already given answer 403, as after expiry. */
  revokeSessions(): void {
    this.chainTokens.clear();
  }

  /** Requests whose path starts with `prefix` (e.g. post pages of one id). */
  count(predicate: (request: FakeRequest) => boolean): number {
    return this.requests.filter(predicate).length;
  }

  pageRequests(id: string): number {
    return this.count((request) => request.path.includes(id) && !request.path.startsWith("/video/"));
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://fake.invalid");
    this.requests.push({
      method: request.method ?? "GET",
      path: url.pathname + url.search,
      headers: request.headers,
    });
    const path = url.pathname;

    const profile = /^\/@([\w.-]+)\/?$/.exec(path)?.[1];
    if (profile) return this.profilePage(request, response, profile);
    const embed = /^\/embed\/@([\w.-]+)\/?$/.exec(path)?.[1];
    if (embed) return this.embedPage(response, embed);
    if (path === "/api/creator/item_list/") return this.creatorItems(request, response, url);
    if (path === "/following") return this.followingPage(request, response);
    if (path === "/api/story/user_list/") return this.storyUsers(request, response, url);
    if (path === "/api/story/batch/item_list/") return this.storyBatch(request, response, url);
    const tab = /^\/api\/(favorite|user\/collect|repost|story)\/item_list\/$/.exec(path)?.[1];
    if (tab)
      return this.tabItems(
        request,
        response,
        url,
        TAB_OF_ENDPOINT[tab] as keyof NonNullable<FakeProfile["tabs"]>,
      );
    if (path === "/api/collection/item_list/") return this.offsetItems(request, response, url, "collection");
    if (path === "/api/mix/item_list/") return this.offsetItems(request, response, url, "playlist");
    const desktopPost = /^\/@([\w.-]*)\/(?:video|photo)\/(\d+)\/?$/.exec(path);
    const mobilePost = /^\/v\/(\d+)\.html$/.exec(path);
    const shortCode = /^\/(?:t\/)?([A-Za-z0-9]{1,21})\/?$/.exec(path);
    if (desktopPost?.[2]) return this.postPage(request, response, desktopPost[2], false);
    if (mobilePost?.[1]) return this.postPage(request, response, mobilePost[1], true);
    // A media address that redirects off TikTok (to `?to=`), as CDNs and redirectors can.
    if (path.startsWith("/video/tos/offsite/")) return redirect(response, url.searchParams.get("to") ?? "/");
    if (path.startsWith("/video/tos/")) return this.media(request, response, url);
    // Subtitle tracks (`video.subtitleInfos[].Url`): /<hash>/<hex time>/video/tos/…; WebVTT text. The
    // real host's content type is not documented: text/vtt is the fake's guess.
    if (/^\/[0-9a-f]{32}\/[0-9a-f]+\/video\/tos\//.test(path))
      return send(
        response,
        200,
        "text/vtt; charset=utf-8",
        "WEBVTT\n\n00:00.000 --> 00:02.000\none-pan lemon pasta\n",
      );
    if (path.startsWith("/aweme/v1/play/")) return this.redirector(request, response, url);
    if (/\.(jpe?g|webp|image|png)$/.test(path) || path.includes("~tplv-")) return this.image(response, url);
    if (path === "/login") return send(response, 200, "text/html; charset=utf-8", loginPage());
    if (shortCode?.[1] && path !== "/login") return this.shortLink(request, response, shortCode[1]);
    // TikTok's home page: a 200 app shell without post data.
    if (path === "/") return send(response, 200, "text/html; charset=utf-8", stubPage());
    return send(response, 404, "text/html; charset=utf-8", "<html><body>Page not available</body></html>");
  }

  private shortLink(request: IncomingMessage, response: ServerResponse, code: string) {
    const rule = SHORT_CODES[code];
    if (!rule || rule.status === 404) return send(response, 404, "text/html; charset=utf-8", "");
    if (rule.crawlers && /facebookexternalhit/i.test(request.headers["user-agent"] ?? "")) {
      response.setHeader("location", rule.crawlers);
      return send(response, 301, "text/html; charset=utf-8", "");
    }
    if (rule.page === "waf") return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    if (rule.page === "stub") return send(response, 200, "text/html; charset=utf-8", stubPage());
    if (!rule.location) return send(response, rule.status, "text/html; charset=utf-8", "<html>error</html>");
    const href = rule.location.replaceAll("&", "&amp;");
    if (!rule.bodyOnly) response.setHeader("location", rule.location);
    send(response, rule.status, "text/html; charset=utf-8", `<a href="${href}">Moved Permanently</a>.`);
  }

  private async postPage(request: IncomingMessage, response: ServerResponse, id: string, mobile: boolean) {
    const scenario = this.scenarios.get(id) ?? { kind: "item-missing" };
    if (scenario.kind === "status") {
      if (scenario.status === 429) response.setHeader("retry-after", "30");
      return send(
        response,
        scenario.status,
        "text/html; charset=utf-8",
        `<html><body>${scenario.status}</body></html>`,
      );
    }
    if (scenario.kind === "login") {
      response.setHeader(
        "location",
        `https://www.tiktok.com/login?redirect_url=${encodeURIComponent(`https://www.tiktok.com/video/${id}`)}`,
      );
      return send(response, 302, "text/html; charset=utf-8", "");
    }
    const cookies = parseCookies(request.headers.cookie);
    if (
      scenario.kind === "waf-always" ||
      (this.options.waf !== false && !this.keptSession(cookies) && !this.cleared(cookies))
    )
      return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    if (scenario.kind === "slow") await new Promise((resolve) => setTimeout(resolve, scenario.ms));

    const userAgent = request.headers["user-agent"] ?? "";
    const mobileAgent = /iPhone|Android|Mobile/.test(userAgent);
    this.setSessionCookies(response, cookies);
    const login = cookies.has("sessionid");
    const hidden =
      scenario.kind === "sample" &&
      scenario.privateAccount &&
      !(login && scenario.privateAccount.visibleToLogin);
    const html = this.pageFor(
      hidden ? { kind: "sample", sample: "private-account" } : scenario,
      id,
      mobile,
      mobile && mobileAgent,
    );
    send(response, 200, "text/html; charset=utf-8", html);
  }

  private pageFor(scenario: Scenario, id: string, mobileUrl: boolean, mobileAgent: boolean): string {
    switch (scenario.kind) {
      case "captcha":
        return captchaPage();
      case "stub":
        return stubPage();
      case "malformed":
        return postPage(tiktokSample("video").slice(0, 5000), id, mobileUrl);
      case "item-missing":
        return postPage(errorData(10204, "item doesn't exist"), id, mobileUrl);
      case "blank-10204":
        return postPage(errorData(10204, ""), id, mobileUrl);
      case "desktop-stub":
        if (!mobileAgent) return stubPage();
        return postPage(sampleData(scenario.sample, { mobile: true, id }), id, true);
      case "sample":
      case "slow":
        if (mobileUrl && !mobileAgent) return stubPage();
        return postPage(
          sampleData(scenario.sample, {
            mobile: mobileAgent,
            structOnly: "variant" in scenario && scenario.variant === "struct-only",
            largeVideoBytes: "largeVideoBytes" in scenario ? scenario.largeVideoBytes : undefined,
            author: "author" in scenario ? scenario.author : undefined,
            privateAuthor: "privateAccount" in scenario && scenario.privateAccount !== undefined,
            id,
          }),
          id,
          mobileUrl,
        );
      default:
        return stubPage();
    }
  }

  /** Whether this request meets the WAF page: no kept session and no fresh solution. */
  private challenged(request: IncomingMessage): boolean {
    const cookies = parseCookies(request.headers.cookie);
    return this.options.waf !== false && !this.keptSession(cookies) && !this.cleared(cookies);
  }

  /** A profile page: `webapp.user-detail` (docs/upstreams/tiktok.md §6). */
  private profilePage(request: IncomingMessage, response: ServerResponse, username: string) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    this.setSessionCookies(response, parseCookies(request.headers.cookie));
    const profile = this.profiles.get(username);
    if (profile?.pageWithoutSecUid) return send(response, 200, "text/html; charset=utf-8", stubPage());
    const detail = profile
      ? {
          userInfo: {
            user: {
              id: profile.userId,
              uniqueId: profile.username,
              nickname: profile.nickname,
              secUid: profile.secUid,
              avatarLarger: `https://p16-common-sign.tiktokcdn-us.com/tos-useast5-avt-0068-tx/${profile.userId}~tplv-tiktokx-cropcenter:1080:1080.jpeg`,
              signature: "",
              verified: false,
              privateAccount: profile.private === true,
              secret: profile.private === true,
              // Whether the account shows its liked videos to anyone (TikTok's own user field).
              openFavorite: profile.tabs?.liked?.public === true,
            },
            stats: { videoCount: profile.posts.length, followerCount: 12 },
            statsV2: { videoCount: String(profile.posts.length), followerCount: "12" },
          },
          // A private account's page says so in its status too (yt-dlp reads 10222 there).
          statusCode: profile.private ? 10222 : 0,
          statusMsg: "",
        }
      : { userInfo: {}, statusCode: 10221, statusMsg: "user not exist" };
    const data = JSON.stringify({
      __DEFAULT_SCOPE__: { "webapp.app-context": { language: "en" }, "webapp.user-detail": detail },
    });
    send(
      response,
      200,
      "text/html; charset=utf-8",
      postPage(data.replaceAll("/", "\\u002F"), profile?.userId ?? "0", false),
    );
  }

  /** The embed page (`__FRONTITY_CONNECT_STATE__`): the account's latest post ids. */
  private embedPage(response: ServerResponse, username: string) {
    const profile = this.profiles.get(username);
    if (!profile)
      return send(response, 404, "text/html; charset=utf-8", "<html><body>Not found</body></html>");
    const state = {
      source: {
        data: {
          [`/embed/@${username}`]: {
            videoList: [
              ...(profile.embedFirst ?? []),
              ...profile.posts.slice(0, 6).map((post) => post.id),
            ].map((id) => ({ id })),
          },
        },
      },
    };
    send(
      response,
      200,
      "text/html; charset=utf-8",
      `<!DOCTYPE html><html><head><script id="__FRONTITY_CONNECT_STATE__" type="application/json">${JSON.stringify(state)}</script></head><body></body></html>`,
    );
  }

  /**
   * `/api/creator/item_list/` (docs/upstreams/tiktok.md §6), held to the rules the references keep:
   * every parameter they send, or TikTok's answer to a bad request; at most 15 posts whatever `count`
   * says; a `device_id` outside TikTok's range is a stale one. The account's posts older than `cursor`
   * (ms), newest first, `count` of them when the newest is within about a week of the cursor (an empty
   * answer with `hasMorePrevious` when the week has none); at the end `hasMorePrevious` is false while `hasMore` may stay true; for a stale device id,
   * the first page whatever the cursor (yt-dlp #14031).
   */
  private async creatorItems(request: IncomingMessage, response: ServerResponse, url: URL) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    const missing = missingParameters(url, CREATOR_LIST_PARAMETERS) ?? wrongValue(url);
    if (missing) return sendJson(response, badListRequest(missing));
    const profile = [...this.profiles.values()].find(
      (candidate) => candidate.secUid === url.searchParams.get("secUid"),
    );
    if (!profile) return sendJson(response, { statusCode: 10201, statusMsg: "", itemList: [] });
    if (profile.listDelayMs) await new Promise((resolve) => setTimeout(resolve, profile.listDelayMs));
    if (profile.refuseLists)
      return send(response, 403, "text/html", "<html><body>Access Denied</body></html>");
    if (this.emptyBody(profile.username, profile.emptyBodies))
      return send(response, 200, "application/json; charset=utf-8", "");
    const cookies = parseCookies(request.headers.cookie);
    this.setSessionCookies(response, cookies);
    const login = cookies.has("sessionid") && profile.visibleToLogin === true;
    // Nothing to list for this visitor: no itemList and no hasMore (docs/upstreams/tiktok.md §6).
    if (profile.hiddenPosts || (profile.private && !login))
      return sendJson(response, { statusCode: 0, statusMsg: "" });
    const cursor = Number(url.searchParams.get("cursor"));
    const count = Math.min(Number(url.searchParams.get("count")) || 15, 15);
    const device = url.searchParams.get("device_id") ?? "";
    const seen = this.devices.get(profile.username) ?? [];
    if (!seen.includes(device)) seen.push(device);
    this.devices.set(profile.username, seen);
    const stale = !isWebDeviceId(device) || seen.indexOf(device) < (profile.staleDevices ?? 0);
    const older = profile.posts.filter((post) => post.createTime * 1000 < cursor);
    // TikTok looks about a week back from the cursor: with no post in that week, the answer is empty.
    const seesAny = (older[0]?.createTime ?? 0) * 1000 >= cursor - 7 * 86_400_000;
    const page = stale ? profile.posts.slice(0, count) : seesAny ? older.slice(0, count) : [];
    this.listedPages.push({ username: profile.username, count: url.searchParams.get("count") ?? "" });
    sendJson(response, {
      itemList: page.map((post) => itemStructOf(post, profile)),
      hasMorePrevious: stale || older.length > page.length,
      // Inferred from the references, which both ignore it: it can stay true at the very end.
      hasMore: true,
      cursor: String(page.at(-1) ? (page.at(-1) as FakePost).createTime * 1000 : cursor),
      statusCode: 0,
    });
  }

  /** `/api/collection/item_list/` and `/api/mix/item_list/`: by offset, 30 at most. */
  private offsetItems(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    kind: FakeCollection["kind"],
  ) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    const key = kind === "collection" ? "collectionId" : "mixId";
    const missing = missingParameters(url, kind === "collection" ? COLLECTION_PARAMETERS : MIX_PARAMETERS);
    if (missing) return sendJson(response, badListRequest(missing));
    const collection = this.collections.get(url.searchParams.get(key) ?? "");
    if (!collection || collection.kind !== kind)
      return sendJson(response, { statusCode: 10201, statusMsg: "", itemList: [], hasMore: false });
    if (this.emptyBody(`${kind}/${collection.id}`, collection.emptyBodies))
      return send(response, 200, "application/json; charset=utf-8", "");
    this.setSessionCookies(response, parseCookies(request.headers.cookie));
    const offset = Number(url.searchParams.get("cursor")) || 0;
    const count = Math.min(Number(url.searchParams.get("count")) || 30, 30);
    if (collection.refuseFrom !== undefined && offset >= collection.refuseFrom)
      return sendJson(response, { statusCode: 10000, statusMsg: "", itemList: [], hasMore: false });
    const owner = this.profiles.get(collection.owner) ?? {
      username: collection.owner,
      nickname: collection.owner,
      userId: "1",
      secUid: "MS4wLjABAAAAx",
    };
    // Positions TikTok no longer shows (removed or hidden posts) count, but answer nothing.
    const shown = collection.posts
      .map((post, position) => ({ post, position }))
      .filter(({ position }) => position >= offset && position < offset + count)
      .filter(({ position }) => !collection.hidden?.includes(position));
    sendJson(response, {
      itemList: shown.map(({ post }) => itemStructOf(post, owner)),
      hasMore: offset + count < collection.posts.length,
      ...offsetCursor(collection, offset, count, shown.length),
      statusCode: 0,
    });
  }

  /**
   * A person's tab (docs/upstreams/tiktok.md §8), as gallery-dl reads it: withheld (no itemList, no
   * "more") unless the tab is public or the `sessionid` is its owner's login (or, for stories, a login
   * that follows the owner); liked and saved page by a cursor that goes down and is not a time, reposts
   * by an offset (each page two posts short of `count`, so a client that adds `count` skips posts),
   * stories by a `MaxCursor` (a time in ms) that goes up while `HasMoreAfter`, oldest story first.
   */
  private tabItems(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    tab: keyof NonNullable<FakeProfile["tabs"]>,
  ) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    const stories = tab === "stories";
    const required = [
      ...WEB_APP_PARAMETERS,
      "count",
      "cursor",
      ...(stories ? STORY_PARAMETERS : TAB_PARAMETERS),
    ];
    const missing = webAppProblem(url, required);
    if (missing) return sendJson(response, badListRequest(missing));
    if (
      !stories &&
      (url.searchParams.get("post_item_list_request_type") !== "0" ||
        url.searchParams.get("needPinnedItemIds") !== "false")
    )
      return sendJson(response, badListRequest("post_item_list_request_type"));
    const profile = [...this.profiles.values()].find((candidate) =>
      stories
        ? candidate.userId === url.searchParams.get("authorId")
        : candidate.secUid === url.searchParams.get("secUid"),
    );
    const served = profile?.tabs?.[tab];
    const cookies = parseCookies(request.headers.cookie);
    this.setSessionCookies(response, cookies);
    if (!profile || !served || !(served.public || this.opensTab(cookies.get("sessionid"), profile, tab)))
      return sendJson(response, { statusCode: 0, statusMsg: "" });
    if (this.emptyBody(`${profile.username}/${tab}`, served.emptyBodies))
      return send(response, 200, "application/json; charset=utf-8", "");
    const count = Number(url.searchParams.get("count"));
    const device = url.searchParams.get("device_id") ?? "";
    const devices = this.devices.get(`${profile.username}:${tab}`) ?? [];
    if (!devices.includes(device)) devices.push(device);
    this.devices.set(`${profile.username}:${tab}`, devices);
    // A stale device id gets the first page again, whatever the cursor (as on profiles).
    const cursor =
      devices.indexOf(device) < (served.staleDevices ?? 0) ? 0 : Number(url.searchParams.get("cursor"));
    if (served.noItemList) return sendJson(response, { hasMore: false, statusCode: 0 });
    // TikTok leaves empty fields out (an empty list, a false flag): an empty tab answers as a withheld one.
    if (served.posts.length === 0) return sendJson(response, { statusCode: 0, statusMsg: "" });
    if (served.emptyAnswers) {
      served.emptyAnswers--;
      const more = stories ? { MaxCursor: cursor, HasMoreAfter: true } : { hasMore: true };
      return sendJson(response, { itemList: [], ...more, statusCode: 0 });
    }
    const author = served.author ?? profile;
    if (stories) return sendJson(response, storyPage(served, profile, cursor, Math.min(count, 5)));
    const items = (from: number, n: number) =>
      served.posts.slice(from, from + n).map((post) => itemStructOf(post, author));
    if (tab === "reposts") {
      const page = items(cursor, Math.max(1, count - 2));
      const more = cursor + page.length < served.posts.length;
      return sendJson(response, {
        itemList: page,
        ...(served.moreFlag === "HasMoreAfter" ? { HasMoreAfter: more } : { hasMore: more }),
        statusCode: 0,
      });
    }
    const reached = `${profile.username}:${tab}:${device}`;
    const position = this.tabPosition(cursor, reached, served.posts.length);
    const page = items(position, count);
    this.reached.set(reached, position + page.length);
    const next = TAB_CURSOR_TOP - (position + page.length);
    const slip = slipAt(served, position);
    const given = { missing: undefined, unchanged: cursor, up: cursor + 1000, down: next }[slip ?? "down"];
    sendJson(response, {
      itemList: page,
      ...(given === undefined ? {} : { cursor: String(given) }),
      hasMore: position + page.length < served.posts.length,
      statusCode: 0,
    });
  }

  /**
   * Where a liked or saved cursor points: 0 is the top, a cursor the fake handed out its position, and
   * any other (gallery-dl's fallback, -50000) where this device's listing had got to. Inferred from
   * gallery-dl, whose fallback only works so: the cursor "does not appear to be based on item list
   * timestamps at all".
   */
  private tabPosition(cursor: number, reached: string, length: number): number {
    if (cursor === 0) return 0;
    const position = TAB_CURSOR_TOP - cursor;
    if (position >= 0 && position <= length) return position;
    return this.reached.get(reached) ?? 0;
  }

  /** Whether a login opens an account's private tab: its owner's, or for stories one that follows the owner. */
  private opensTab(sessionId: string | undefined, owner: FakeProfile, tab: string): boolean {
    const login = sessionId === undefined ? undefined : this.logins.get(sessionId);
    if (login === undefined) return false;
    if (login === owner.username) return true;
    return (
      tab === "stories" &&
      login === this.following.viewer.username &&
      this.following.accounts.includes(owner.username)
    );
  }

  /** The /following page: its app context names the login's own account when a `sessionid` comes. */
  private followingPage(request: IncomingMessage, response: ServerResponse) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    const cookies = parseCookies(request.headers.cookie);
    // A visitor who is not logged in is sent to the login page.
    if (!cookies.has("sessionid"))
      return redirect(
        response,
        "https://www.tiktok.com/login?redirect_url=https%3A%2F%2Fwww.tiktok.com%2Ffollowing",
      );
    this.setSessionCookies(response, cookies);
    const { viewer } = this.following;
    const user = cookies.has("sessionid")
      ? { uid: viewer.userId, uniqueId: viewer.username, nickName: viewer.nickname, secUid: viewer.secUid }
      : {};
    const data = JSON.stringify({
      __DEFAULT_SCOPE__: { "webapp.app-context": { language: "en", region: "US", user } },
    });
    send(response, 200, "text/html; charset=utf-8", postPage(data.replaceAll("/", "\\u002F"), "0", false));
  }

  /**
   * `story/user_list` (gallery-dl's request): the accounts with stories a login follows, by an offset,
   * at most 15 a request; without a `sessionid`, an answer without `storyUsers`.
   */
  private storyUsers(request: IncomingMessage, response: ServerResponse, url: URL) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    const missing = webAppProblem(url, [...WEB_APP_PARAMETERS, "count", "cursor", "storyFeedScene"]);
    if (missing || url.searchParams.get("storyFeedScene") !== "3")
      return sendJson(response, badListRequest(missing ?? "storyFeedScene"));
    const cookies = parseCookies(request.headers.cookie);
    this.setSessionCookies(response, cookies);
    if (!cookies.has("sessionid")) return sendJson(response, { statusCode: 0, statusMsg: "" });
    if (this.emptyBody("/following", this.following.emptyBodies))
      return send(response, 200, "application/json; charset=utf-8", "");
    const accounts: (FakeProfile | undefined)[] = [this.following.viewer, ...this.followedProfiles()];
    for (const at of this.following.strayEntriesAt) accounts.splice(at, 0, undefined);
    const device = url.searchParams.get("device_id") ?? "";
    if (!this.feedDevices.seen.has(device)) {
      this.feedDevices.seen.add(device);
      if (this.following.staleDevices > 0) {
        this.following.staleDevices--;
        this.feedDevices.stale.add(device);
      }
    }
    const offset = this.feedDevices.stale.has(device) ? 0 : Number(url.searchParams.get("cursor"));
    const count = Number(url.searchParams.get("count"));
    const page = accounts.slice(offset, offset + count);
    sendJson(response, {
      storyUsers: page.map((account) =>
        account
          ? { user: { id: account.userId, uniqueId: account.username, nickname: account.nickname } }
          : { user: { uniqueId: "no.id.here", nickname: "?" } },
      ),
      hasMore: offset + page.length < accounts.length,
      statusCode: 0,
    });
  }

  /**
   * `story/batch/item_list`: the stories of the `authorIds` named (one to ten, `storyCallScene=2`), each
   * author's in `batchStoryItemLists`; without a `sessionid`, nothing.
   */
  private storyBatch(request: IncomingMessage, response: ServerResponse, url: URL) {
    if (this.challenged(request)) return send(response, 200, "text/html; charset=utf-8", this.wafPage());
    const missing = webAppProblem(url, [...WEB_APP_PARAMETERS, "authorIds", "storyCallScene"]);
    const authors = (url.searchParams.get("authorIds") ?? "").split(",").filter(Boolean);
    if (
      missing ||
      url.searchParams.get("storyCallScene") !== "2" ||
      authors.length < 1 ||
      authors.length > 10
    )
      return sendJson(response, badListRequest(missing ?? "authorIds"));
    const cookies = parseCookies(request.headers.cookie);
    this.setSessionCookies(response, cookies);
    if (!cookies.has("sessionid")) return sendJson(response, { statusCode: 0, statusMsg: "" });
    const byId = new Map([...this.profiles.values()].map((profile) => [profile.userId, profile]));
    sendJson(response, {
      batchStoryItemLists: authors.map((id) => {
        const profile = byId.get(id);
        return {
          authorId: id,
          itemList: (profile?.tabs?.stories?.posts ?? []).map((post) =>
            storyStructOf(post, profile as FakeProfile),
          ),
        };
      }),
      statusCode: 0,
    });
  }

  private followedProfiles(): FakeProfile[] {
    return this.following.accounts
      .map((handle) => this.profiles.get(handle))
      .filter((profile): profile is FakeProfile => profile !== undefined);
  }

  /** Whether a list's next answer (an account's, a tab's, a collection's, the feed's) is an empty body. */
  private emptyBody(list: string, times = 0): boolean {
    const given = this.emptyBodiesGiven.get(list) ?? 0;
    if (given >= times) return false;
    this.emptyBodiesGiven.set(list, given + 1);
    return true;
  }

  /** A `ttwid` this fake gave with a data page, recently enough to be let through. */
  private keptSession(cookies: Map<string, string>): boolean {
    const ttwid = cookies.get("ttwid");
    const since = ttwid === undefined ? undefined : this.sessions.get(ttwid);
    return since !== undefined && Date.now() - since < (this.options.wafSessionMs ?? 30 * 60_000);
  }

  private setSessionCookies(response: ServerResponse, cookies: Map<string, string>): void {
    const token = randomBytes(24).toString("base64");
    this.chainTokens.add(token);
    // A kept session keeps its ttwid; a new one gets a new ttwid.
    const ttwid = this.keptSession(cookies)
      ? (cookies.get("ttwid") as string)
      : `1%7C${randomBytes(16).toString("hex")}%7C${Math.floor(Date.now() / 1000)}`;
    if (!this.sessions.has(ttwid)) this.sessions.set(ttwid, Date.now());
    response.setHeader("set-cookie", [
      `tt_chain_token=${token}; Domain=.tiktok.com; Path=/; Max-Age=15552000; Secure; HttpOnly`,
      `ttwid=${ttwid}; Domain=.tiktok.com; Path=/; Max-Age=31536000; Secure; HttpOnly`,
      `tt_csrf_token=${randomBytes(12).toString("hex")}; Domain=.tiktok.com; Path=/; Secure; HttpOnly; SameSite=Lax`,
      `msToken=${randomBytes(30).toString("base64url")}; Domain=.tiktok.com; Path=/; Max-Age=864000; Secure`,
    ]);
  }

  /** The WAF page (docs/upstreams/tiktok.md §2.10) with a fresh challenge. */
  private wafPage(): string {
    this.wafChallenges++;
    const seed = randomBytes(16);
    const solution = randomInt(0, (this.options.wafMaxSolution ?? 20_000) + 1);
    const digest = createHash("sha256").update(seed).update(String(solution)).digest();
    const seedText = seed.toString("base64");
    const extraValue = randomBytes(8).toString("hex");
    this.challenges.set(seedText, { solution, issuedAt: Date.now(), extraValue });
    const challenge = {
      v: { a: seedText, b: Math.floor(Date.now() / 1000), c: digest.toString("base64") },
      s: "waf_challenge",
      e: 1,
    };
    // TikTok's base64 comes without padding at times; the client pads it back.
    const encoded = Buffer.from(JSON.stringify(challenge)).toString("base64").replace(/=+$/, "");
    return `<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Please wait...</title>
<script id="slardar-config" type="application/json">{"bid":"slardar_us_waf","pid":"SlardarWAF","sample_rate":1,"env":"prod"}</script>
<style>body{font-family:sans-serif;display:flex;align-items:center;justify-content:center;height:100vh;margin:0}</style>
</head><body><p id="wci" class="${CHALLENGE_COOKIE}"></p><p id="cs" class="${encoded}"></p>
<p id="rci" class="${EXTRA_COOKIE}"></p><p id="rs" class="${extraValue}"></p>
<div class="loading">Please wait...</div>
<script src="https://sf16-website-login.neutral.ttwstatic.com/obj/tiktok_web_login_static/waf-aiso/waf-aiso-1.0.12.js"></script>
</body></html>`;
  }

  /** A correct, recent solution in the request's cookies. */
  private cleared(cookies: Map<string, string>): boolean {
    const value = cookies.get(CHALLENGE_COOKIE);
    if (!value) return false;
    try {
      const solved = JSON.parse(Buffer.from(value, "base64").toString("utf8")) as {
        v?: { a?: string };
        d?: string;
      };
      const challenge = solved.v?.a ? this.challenges.get(solved.v.a) : undefined;
      if (!challenge || Date.now() - challenge.issuedAt > CLEARANCE_MS) return false;
      if (cookies.has(EXTRA_COOKIE) && cookies.get(EXTRA_COOKIE) !== challenge.extraValue) return false;
      if (Buffer.from(solved.d ?? "", "base64").toString() !== String(challenge.solution)) return false;
      // TikTok's own script gives the solved cookie Max-Age=1: a solution opens one page, not two.
      this.challenges.delete(solved.v?.a ?? "");
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Video and audio (docs/upstreams/tiktok.md §4): 403 without the page's tt_chain_token, without a TikTok Referer or
   * past `expire`; otherwise the bytes (i % 251), with Range. Bodies are generated as they are sent.
   */
  private media(request: IncomingMessage, response: ServerResponse, url: URL) {
    const token = parseCookies(request.headers.cookie).get("tt_chain_token");
    const expire = Number(url.searchParams.get("expire"));
    const referer = request.headers.referer ?? "";
    if (
      !token ||
      !this.chainTokens.has(token) ||
      !(expire * 1000 > Date.now()) ||
      !/^https:\/\/www\.tiktok\.com\//.test(referer)
    )
      return send(response, 403, "text/html", "<html><body>Access Denied</body></html>");
    const audio = url.searchParams.get("mime_type") === "audio_mpeg";
    const large = /\/large\/(\d+)\//.exec(url.pathname)?.[1];
    const real = this.options.realMedia ? realMediaFiles() : undefined;
    const bytes = real && (audio ? real.audio : url.pathname.includes("-pve-") ? real.watermark : real.clean);
    const size = bytes ? bytes.length : large ? Number(large) : audio ? 250_000 : 1_048_576;
    const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? "");
    const start = range?.[1] ? Number(range[1]) : 0;
    const end = range?.[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    response.statusCode = range ? 206 : 200;
    response.setHeader("content-type", audio ? "audio/mpeg" : "video/mp4");
    response.setHeader("accept-ranges", "bytes");
    response.setHeader("content-length", end - start + 1);
    if (range) response.setHeader("content-range", `bytes ${start}-${end}/${size}`);
    this.mediaStreams.opened++;
    response.once("close", () => {
      if (!response.writableFinished) this.mediaStreams.aborted++;
    });
    if (request.method === "HEAD") return void response.end();
    if (bytes) return void response.end(bytes.subarray(start, end + 1));
    streamPattern(response, start, end);
  }

  private redirector(request: IncomingMessage, response: ServerResponse, url: URL) {
    const token = parseCookies(request.headers.cookie).get("tt_chain_token");
    if (!token || !this.chainTokens.has(token))
      return send(
        response,
        200,
        "text/html; charset=utf-8",
        `<html><body>${"<div></div>".repeat(2900)}</body></html>`,
      );
    const expire = Math.floor(Date.now() / 1000) + VIDEO_LIFETIME_S;
    response.setHeader(
      "location",
      `https://v16-webapp-prime.us.tiktok.com/video/tos/useast8/redirected/${url.searchParams.get("video_id") ?? "x"}/?mime_type=video_mp4&expire=${expire}&tk=tt_chain_token`,
    );
    send(response, 302, "text/html", "");
  }

  private async image(response: ServerResponse, url: URL) {
    if (this.imageDelayMs) await new Promise((resolve) => setTimeout(resolve, this.imageDelayMs));
    const expires = Number(url.searchParams.get("x-expires"));
    if (url.searchParams.has("x-expires") && !(expires * 1000 > Date.now()))
      return send(response, 403, "text/html", "<html><body>Access Denied</body></html>");
    send(response, 200, "image/jpeg", COVER_IMAGE);
  }
}

/**
 * A real JPEG (90×120, one colour, 832 bytes), as TikTok's image hosts send `image/jpeg` (docs/upstreams/tiktok.md §4),
 * so that a browser can draw the covers and photos.
 */
export const COVER_IMAGE = Buffer.from(
  "/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABh" +
    "Y3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
    "AAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAAB" +
    "UAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAA" +
    "AAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9Y" +
    "WVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAM" +
    "ZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQy" +
    "SUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8" +
    "fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHz/wAARCAB4AFoDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/" +
    "xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFgEBAQEAAAAAAAAAAAAAAAAAAAMG/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQAC" +
    "EQMRAD8AgAi04AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
    "AAAAAAD/2Q==",
  "base64",
);

/** The byte at offset i of every fake media file: easy to check, never all held in memory. */
export const patternByte = (offset: number) => offset % 251;
const PATTERN = Buffer.from(Array.from({ length: 251 * 261 }, (_, i) => patternByte(i)));

/** Writes bytes start..end of the pattern, honouring backpressure. */
function streamPattern(response: ServerResponse, start: number, end: number) {
  let offset = start;
  const pump = () => {
    while (offset <= end) {
      const from = offset % 251;
      const length = Math.min(PATTERN.length - from, end - offset + 1);
      const chunk = PATTERN.subarray(from, from + length);
      offset += length;
      if (!response.write(chunk)) return void response.once("drain", pump);
    }
    response.end();
  };
  response.once("close", () => {
    offset = end + 1;
  });
  pump();
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.statusCode = status;
  response.setHeader("content-type", type);
  response.setHeader("content-length", Buffer.byteLength(body));
  response.end(body);
}

/**
 * A sample's text as the page would carry it today: verbatim, except that media expiry times are
 * moved into the future (the samples' have passed) and the requested variant is applied.
 */
export function sampleData(
  name: string,
  options: {
    mobile?: boolean;
    structOnly?: boolean;
    id?: string;
    largeVideoBytes?: number;
    author?: { username: string; secUid: string };
    privateAuthor?: boolean;
  } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  let text = tiktokSample(name)
    .replace(/([?&]|\\u0026)expire=\d+/g, `$1expire=${now + VIDEO_LIFETIME_S}`)
    .replace(/x-expires=\d+/g, `x-expires=${Math.ceil((now + 86_400) / 3600) * 3600}`);
  if (options.mobile) text = text.replace('"webapp.video-detail"', '"webapp.reflow.video.detail"');
  if (options.structOnly) {
    // playAddr empty (only PlayAddrStruct / bitrateInfo left), DataSize as strings, no music URL.
    text = text
      .replace(/"playAddr":"[^"]*"/, '"playAddr":""')
      .replace(/"DataSize":(\d+)/g, '"DataSize":"$1"')
      .replace(/"playUrl":"[^"]*"/, '"playUrl":""');
  }
  if (options.largeVideoBytes) {
    const url = `https://v16-webapp-prime.us.tiktok.com/video/tos/useast8/large/${options.largeVideoBytes}/?mime_type=video_mp4&expire=${now + VIDEO_LIFETIME_S}&tk=tt_chain_token`;
    text = text.replace(
      /"playAddr":"[^"]*"/,
      `"playAddr":"${url.replaceAll("/", "\\u002F").replaceAll("&", "\\u0026")}"`,
    );
  }
  if (options.id)
    text = text.replaceAll(SAMPLE_IDS.video, options.id).replaceAll(SAMPLE_IDS.photo, options.id);
  if (options.author)
    text = text
      .replace(/"uniqueId":"[^"]*"/, `"uniqueId":"${options.author.username}"`)
      .replace(/"secUid":"[^"]*"/, `"secUid":"${options.author.secUid}"`);
  if (options.privateAuthor) text = text.replace('"privateAccount":false', '"privateAccount":true');
  return text;
}

/**
 * A story as TikTok lists it: the whole itemStruct of the video or photo sample, under the story's id
 * and author, its media addresses bound to the session as a post page's are.
 */
function storyStructOf(
  post: FakePost,
  author: Pick<FakeProfile, "username" | "nickname" | "userId" | "secUid">,
): Record<string, unknown> {
  const data = JSON.parse(
    sampleData(post.photo ? "photo" : "video", {
      id: post.id,
      author: { username: author.username, secUid: author.secUid },
    }),
  );
  const item = data.__DEFAULT_SCOPE__["webapp.video-detail"].itemInfo.itemStruct;
  return {
    ...item,
    createTime: post.createTime,
    desc: post.caption ?? `story ${post.id.slice(-4)}`,
    author: { ...item.author, id: author.userId, nickname: author.nickname },
  };
}

function errorData(statusCode: number, statusMsg: string): string {
  const data = {
    __DEFAULT_SCOPE__: {
      "webapp.app-context": { language: "en", region: "US" },
      "webapp.video-detail": { statusCode, statusMsg, needFix: false },
    },
  };
  return JSON.stringify(data).replaceAll("/", "\\u002F");
}

const PADDING = `window.__INIT_PROPS__=${JSON.stringify({ i18n: { private: "This account is private", unavailable: "Video currently unavailable" } })};${"var _p=[0,1,2,3,4,5,6,7,8,9];".repeat(9500)}`;

/** A post page: ~300 KB, an unrelated JSON script first, and the data script's attributes reordered on mobile. */
function postPage(data: string, id: string, mobile: boolean): string {
  const dataTag = mobile
    ? '<script type="application/json" id="__UNIVERSAL_DATA_FOR_REHYDRATION__">'
    : '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>TikTok - Make Your Day</title>
<meta property="og:title" content="TikTok - Make Your Day">
<link rel="canonical" href="https://www.tiktok.com/@i/video/${id}">
<script type="application/json" id="api-domains">{"business":"https:\\u002F\\u002Fwww.tiktok.com"}</script>
<script nonce="${randomBytes(8).toString("hex")}">${PADDING}</script>
</head><body><div id="app"></div>
${dataTag}${data}</script>
<script src="https://sf16-website-login.neutral.ttwstatic.com/obj/tiktok_web/webapp/main.js" async></script>
</body></html>`;
}

function redirect(response: ServerResponse, location: string) {
  response.setHeader("location", location);
  send(response, 302, "text/html; charset=utf-8", "");
}

function stubPage(): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>TikTok - Make Your Day</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><div id="app"></div>
${"<!-- -->".repeat(120)}</body></html>`;
}

function captchaPage(): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Security Check</title></head><body>
<div id="captcha-verify-container" class="captcha_verify_container"><div class="captcha-verify-image"></div></div>
<script src="https://sf16-website-login.neutral.ttwstatic.com/obj/tiktok_web_login_static/captcha.js"></script></body></html>`;
}

function loginPage(): string {
  return `<!DOCTYPE html><html><head><title>Log in | TikTok</title></head><body><div id="login"></div></body></html>`;
}

/** What yt-dlp and gallery-dl send with every request to the web app's list endpoints. */
const WEB_APP_PARAMETERS = [
  "aid",
  "app_language",
  "app_name",
  "browser_language",
  "browser_name",
  "browser_online",
  "browser_platform",
  "browser_version",
  "channel",
  "cookie_enabled",
  "device_id",
  "device_platform",
  "focus_state",
  "from_page",
  "history_len",
  "is_fullscreen",
  "is_page_visible",
  "language",
  "os",
  "priority_region",
  "referer",
  "region",
  "screen_height",
  "screen_width",
  "tz_name",
  "verifyFp",
  "webcast_language",
];
const CREATOR_LIST_PARAMETERS = [...WEB_APP_PARAMETERS, "count", "cursor", "secUid", "type"];
const TAB_PARAMETERS = ["secUid", "post_item_list_request_type", "needPinnedItemIds"];
const STORY_PARAMETERS = ["authorId", "loadBackward"];
const TAB_OF_ENDPOINT: Record<string, string> = {
  favorite: "liked",
  "user/collect": "saved",
  repost: "reposts",
  story: "stories",
};
/** Where the liked and saved tabs' cursors count down from (inferred: a number that goes down, not a time). */
const TAB_CURSOR_TOP = 1_700_000_000_000;

/** The `cursor` a collection's or playlist's answer carries, if any (FakeCollection's `answerCursor`). */
function offsetCursor(collection: FakeCollection, offset: number, count: number, shown: number) {
  if (collection.answerCursor === "received") return { cursor: String(offset + shown) };
  if (collection.kind === "playlist" && collection.answerCursor !== "none")
    return { cursor: String(offset + count) };
  return {};
}

/** The slip the answer for the page at `position` makes, used up once served. */
function slipAt(served: FakeTab, position: number): CursorSlip["slip"] | undefined {
  const index = served.cursorSlips?.findIndex((slip) => slip.at === position) ?? -1;
  if (index < 0) return undefined;
  return served.cursorSlips?.splice(index, 1)[0]?.slip;
}

/**
 * A page of stories, oldest first: those after the `MaxCursor` asked (a time in ms; 0 is the first), and
 * the next `MaxCursor`, the last one's time, unless the page's slip says otherwise.
 */
function storyPage(served: FakeTab, owner: FakeProfile, cursor: number, count: number) {
  const ordered = [...served.posts].sort((a, b) => a.createTime - b.createTime);
  const after = ordered.findIndex((post) => post.createTime * 1000 > cursor);
  const from = after < 0 ? ordered.length : after;
  const page = ordered.slice(from, from + count);
  const last = page.at(-1);
  const slip = slipAt(served, from);
  const next = last ? last.createTime * 1000 : cursor;
  const given = { missing: undefined, unchanged: cursor, down: Math.max(1, cursor - 1000), up: next }[
    slip ?? "up"
  ];
  return {
    itemList: page.map((post) => storyStructOf(post, owner)),
    ...(given === undefined ? {} : { MaxCursor: given }),
    HasMoreAfter: from + page.length < ordered.length,
    statusCode: 0,
  };
}
const COLLECTION_PARAMETERS = ["aid", "collectionId", "count", "cursor", "sourceType"];
const MIX_PARAMETERS = ["aid", "mixId", "count", "cursor"];

/** The first parameter the request lacks, if any. */
const missingParameters = (url: URL, names: readonly string[]) =>
  names.find((name) => !url.searchParams.has(name));

/**
 * What a web app list request (a tab, the following feed) lacks: a parameter, or a `device_id` in
 * TikTok's range. The profile list treats an id out of range as a stale one (its first page again);
 * these lists, whose behaviour for one is not documented, refuse it, so a wrong id fails loudly.
 */
const webAppProblem = (url: URL, names: readonly string[]) =>
  missingParameters(url, names) ??
  (isWebDeviceId(url.searchParams.get("device_id") ?? "") ? undefined : "device_id") ??
  wrongValue(url);

/**
 * The values the references always send, checked, not only their presence: the web app's `aid`, a
 * `count` of 1 to 15, `verifyFp`'s shape, and the fixed values of `loadBackward`, `type`, `sourceType`.
 */
const VALUES: Record<string, RegExp> = {
  aid: /^1988$/,
  count: /^(?:[1-9]|1[0-5])$/,
  verifyFp: /^verify_[0-9a-z_]{4,64}$/i,
  loadBackward: /^false$/,
  type: /^[01]$/,
  sourceType: /^113$/,
};
const wrongValue = (url: URL) =>
  Object.entries(VALUES).find(
    ([name, pattern]) => url.searchParams.has(name) && !pattern.test(url.searchParams.get(name) ?? ""),
  )?.[0];

/** How the fake answers a request without a parameter the references always send (inferred: a code, no items). */
const badListRequest = (missing: string) => ({
  statusCode: 10101,
  statusMsg: `invalid parameter: ${missing}`,
});

/** A web `device_id` as TikTok hands them out: an integer in the range both references draw from. */
function isWebDeviceId(device: string): boolean {
  if (!/^\d{19}$/.test(device)) return false;
  const value = BigInt(device);
  return value >= 7_250_000_000_000_000_000n && value <= 7_325_099_899_999_994_577n;
}

function sendJson(response: ServerResponse, body: unknown): void {
  send(response, 200, "application/json; charset=utf-8", JSON.stringify(body));
}
