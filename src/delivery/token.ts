import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { ApiError } from "../domain/errors.js";

/** What a stream link stands for. Sealed inside the token: the client never sees the cookies. */
export interface StreamTicket {
  /** The media address. */
  url: string;
  /** Headers the source said the media needs (cookies, referer, user agent). */
  headers: Record<string, string>;
  filename: string;
  /** Enough to fetch the post again when the address has expired upstream. */
  postId: string;
  source: string;
  kind: MediaKind;
  /** For an image of a photo post: its position. */
  index?: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export type MediaKind = "video" | "videoWatermark" | "hd" | "music" | "image" | "thumb";

export interface StreamTokens {
  seal(ticket: Omit<StreamTicket, "expiresAt">): string;
  /** The ticket, or a 403 ApiError for a token that is altered, foreign or expired. */
  open(token: string): StreamTicket;
}

const MAX_TOKEN_LENGTH = 8192;

/**
 * Stream tokens are encrypted (AES-256-GCM) and signed (HMAC-SHA256 over the ciphertext, checked first,
 * in constant time), with keys derived from `STREAM_SECRET`. Stateless: any instance sharing the secret
 * can serve any link.
 */
export function createStreamTokens(options: {
  secret: string;
  ttlMs: number;
  now: () => number;
}): StreamTokens {
  const encryptionKey = createHash("sha256")
    .update(`tiktok-dl stream encryption\0${options.secret}`)
    .digest();
  const signingKey = createHash("sha256").update(`tiktok-dl stream signature\0${options.secret}`).digest();
  const sign = (data: string) => createHmac("sha256", signingKey).update(data).digest();

  return {
    seal(ticket) {
      const plain = deflateRawSync(JSON.stringify({ ...ticket, expiresAt: options.now() + options.ttlMs }));
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", encryptionKey, iv);
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString(
        "base64url",
      );
      return `${sealed}.${sign(sealed).toString("base64url")}`;
    },
    open(token) {
      const invalid = () => new ApiError(403, "STREAM_INVALID", "This stream link is not valid.");
      if (token.length > MAX_TOKEN_LENGTH) throw invalid();
      const [sealed, signature, extra] = token.split(".");
      if (!sealed || !signature || extra !== undefined) throw invalid();
      const given = Buffer.from(signature, "base64url");
      const expected = sign(sealed);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      let ticket: StreamTicket;
      try {
        const bytes = Buffer.from(sealed, "base64url");
        const decipher = createDecipheriv("aes-256-gcm", encryptionKey, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        const plain = Buffer.concat([
          decipher.update(bytes.subarray(12, bytes.length - 16)),
          decipher.final(),
        ]);
        ticket = JSON.parse(
          inflateRawSync(plain, { maxOutputLength: 64 * 1024 }).toString("utf8"),
        ) as StreamTicket;
      } catch {
        throw invalid();
      }
      if (!(ticket.expiresAt > options.now()))
        throw new ApiError(403, "STREAM_EXPIRED", "This stream link has expired; ask /api/download again.");
      return ticket;
    },
  };
}
