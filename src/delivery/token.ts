import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ApiError } from "../domain/errors.js";

import type { MediaKind, TunnelKind } from "../domain/files.js";
import type { PostRef } from "../domain/platforms.js";

/** What a stream link names: one file of one post, until a time. Nothing else travels in it. */
export interface StreamTicket<Kind extends TunnelKind = MediaKind> {
  /** The post's platform and id. */
  post: PostRef;
  /** The source whose extraction the link came from: asked first if the post must be extracted again. */
  source: string;
  kind: Kind;
  /** For an image of a photo post: its position. */
  index?: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /**
   * The post was answered because of the operator's login (to a client allowed to read what it shows):
   * the tunnel extracts it again with that login, and caches it only where such clients read.
   */
  viaLogin?: true;
}

export interface StreamTokens {
  /**
   * The tokens of one answer's files: the expiry is fixed once, and each token costs one HMAC (about
   * 2 µs). `kind` and `index` name the file.
   */
  forPost(post: PostRef, source: string, viaLogin?: boolean): (kind: TunnelKind, index?: number) => string;
  /** The ticket, or a 403 ApiError for a token that is altered, foreign or expired. */
  open(token: string): StreamTicket<TunnelKind>;
  /**
   * A picture of a listing (a post's cover, an owner's avatar) that belongs to no extracted post: its
   * address itself, signed, so the page shows it through this server instead of sending every visitor
   * to TikTok's CDN. Only TikTok's hosts are ever signed (the caller checks).
   */
  forPicture(url: string): string;
  /** Whether a token is a picture's. */
  isPicture(token: string): boolean;
  /** The picture's address, or the same 403s as `open`. */
  openPicture(token: string): string;
}

const PICTURE = /^pic\.([\w-]{8,4000})\.([0-9a-z]{1,12})\.([\w-]{22})$/;

const KINDS: ReadonlySet<string> = new Set([
  "video",
  "videoWatermark",
  "hd",
  "music",
  "image",
  "thumb",
  "subtitle",
  "zip",
]);
/** Kinds with several files per post, told apart by an index. */
const INDEXED: ReadonlySet<string> = new Set(["image", "subtitle"]);
const TOKEN =
  /^([a-zA-Z]{2,16})(\d{0,3})\.([a-z][a-z0-9]{1,15})\.([\w-]{1,40})\.([\w-]{1,32})\.([0-9a-z]{1,12})(\.L)?\.([\w-]{22})$/;

/**
 * Stream tokens name a file by post, kind and index, with an expiry, signed with HMAC-SHA256 (keyed by
 * `STREAM_SECRET`, checked in constant time): `<kind><index>.<platform>.<postId>.<source>.<expiry>[.L].<signature>`,
 * `.L` for a post answered because of the operator's login.
 * The media address and the cookies it needs never leave the server: the tunnel reads them from the
 * cached extraction when the file is fetched, and extracts the post again when it has left the cache.
 * So links stay short, cost one HMAC each instead of compressing and encrypting a payload, keep working
 * on every instance that shares the secret and the cache, and die with `STREAM_TTL`.
 */
export function createStreamTokens(options: {
  secret: string;
  ttlMs: number;
  now: () => number;
}): StreamTokens {
  const key = createHash("sha256").update(`tiktok-dl stream link\0${options.secret}`).digest();
  const sign = (body: string) => createHmac("sha256", key).update(body).digest().subarray(0, 16);

  const invalid = () => new ApiError(403, "STREAM_INVALID", "This stream link is not valid.");
  const checked = (token: string, signature: string) => {
    // Compared as text: base64url's last character has spare bits, and a token that differs only there
    // is still an altered token.
    const given = Buffer.from(signature);
    const expected = Buffer.from(
      sign(token.slice(0, token.length - signature.length - 1)).toString("base64url"),
    );
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  };
  const notExpired = (expiry: string) => {
    const expiresAt = Number.parseInt(expiry, 36);
    if (!(expiresAt > options.now()))
      throw new ApiError(403, "STREAM_EXPIRED", "This stream link has expired; ask /api/download again.");
    return expiresAt;
  };

  return {
    forPicture(url) {
      // Expiry rounded up to the minute: every instance signs the same picture alike within a minute.
      const expiry = Math.ceil((options.now() + options.ttlMs) / 60_000) * 60_000;
      const body = `pic.${Buffer.from(url).toString("base64url")}.${expiry.toString(36)}`;
      return `${body}.${sign(body).toString("base64url")}`;
    },
    isPicture: (token) => token.startsWith("pic."),
    openPicture(token) {
      const [, address = "", expiry = "", signature = ""] = PICTURE.exec(token) ?? [];
      if (!signature) throw invalid();
      checked(token, signature);
      notExpired(expiry);
      return Buffer.from(address, "base64url").toString("utf8");
    },
    forPost(post, source, viaLogin) {
      const expiry = (options.now() + options.ttlMs).toString(36);
      const login = viaLogin ? ".L" : "";
      return (kind, index) => {
        const body = `${kind}${index ?? ""}.${post.platform}.${post.id}.${source}.${expiry}${login}`;
        return `${body}.${sign(body).toString("base64url")}`;
      };
    },
    open(token) {
      const parts = TOKEN.exec(token);
      if (!parts) throw invalid();
      const [
        ,
        kind = "",
        index = "",
        platform = "",
        id = "",
        source = "",
        expiry = "",
        login,
        signature = "",
      ] = parts;
      checked(token, signature);
      if (!KINDS.has(kind) || INDEXED.has(kind) !== (index !== "")) throw invalid();
      const expiresAt = notExpired(expiry);
      return {
        post: { platform, id },
        source,
        kind: kind as TunnelKind,
        ...(index === "" ? {} : { index: Number(index) }),
        expiresAt,
        ...(login ? { viaLogin: true as const } : {}),
      };
    },
  };
}
