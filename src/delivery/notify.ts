import { Webhook } from "standardwebhooks";
import { SourceFailure } from "../domain/errors.js";
import type { Delivery, Watch, WatchTarget } from "../domain/watches.js";
import type { HttpClient } from "../net/http-client.js";
import { joinBase, type UpstreamMap } from "../net/upstreams.js";

/** What one attempt came to: delivered, to be tried again (when), failed for good, or the target is gone. */
export type SendOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "retry"; status?: number; error: string; retryAfterS?: number }
  | { kind: "failed"; status?: number; error: string }
  | { kind: "gone"; status: number };

/** A receiver's answer is read up to this much (its body matters only for Telegram's verdict). */
export const TARGET_MAX_BYTES = 64 * 1024;
export const TARGET_TIMEOUT_MS = 10_000;

const RETRIED_STATUSES = new Set([408, 429]);
/** The longest message each accepts (Telegram's `text`, Discord's `content`), in characters. */
const TELEGRAM_TEXT_MAX = 4096;
const DISCORD_CONTENT_MAX = 2000;
const DISCORD_TITLE_MAX = 256;

/** `text` in at most `max` characters (code points, never half of one): cut with an ellipsis when longer. */
function cut(text: string, max: number): string {
  const characters = [...text];
  return characters.length > max ? `${characters.slice(0, Math.max(0, max - 1)).join("")}…` : text;
}

/** An event's body as the receiver reads it: Standard Webhooks' `{type, timestamp, data}`. */
interface EventBody {
  type: string;
  timestamp: string;
  data: {
    watch: { id: string; url: string };
    post?: { id: string; url: string; caption?: string; author?: string; createdAt?: string; cover?: string };
    reason?: string;
  };
}

/**
 * Sends a watch's events where it says: a Standard Webhooks POST (signed with the `standardwebhooks`
 * package, by every secret still valid), a Discord webhook message, or a Telegram Bot API `sendMessage`.
 * The client it is given refuses private addresses (unless allowed), follows no redirect, and reads at
 * most 64 KiB within 10 s. Nothing of a target (a URL, a token) is put in an outcome's error.
 */
export function createNotifier(deps: { http: HttpClient; upstreams: UpstreamMap; now: () => number }) {
  const telegramBase = deps.upstreams.baseOf("telegram", "https://api.telegram.org");

  function requestOf(watch: Watch, delivery: Delivery) {
    const target = watch.target;
    // A webhook gets the event's body as it was written; Discord and Telegram a message made from it.
    if (target.type === "webhook") return webhookRequest(target, watch, delivery, deps.now());
    const event = JSON.parse(delivery.body) as EventBody;
    if (target.type === "discord")
      return { url: target.url, body: JSON.stringify(discordMessage(event)), headers: {} };
    return telegramRequest(target, event, telegramBase);
  }

  return async function send(watch: Watch, delivery: Delivery): Promise<SendOutcome> {
    const { url, body, headers } = requestOf(watch, delivery);
    let answer: Awaited<ReturnType<HttpClient["request"]>>;
    try {
      answer = await deps.http.request({
        url,
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "tiktok-dl-watches/1", ...headers },
        body,
        maxBytes: TARGET_MAX_BYTES,
        timeoutMs: TARGET_TIMEOUT_MS,
      });
    } catch (error) {
      if (error instanceof SourceFailure && error.reason === "refused_target")
        return { kind: "failed", error: "the target resolves to a private address" };
      return { kind: "retry", error: error instanceof SourceFailure ? error.reason : "network error" };
    }
    return outcomeOf(answer.status, answer.header("retry-after"), answer.text());
  };
}

export type Notifier = ReturnType<typeof createNotifier>;

function webhookRequest(
  target: Extract<WatchTarget, { type: "webhook" }>,
  watch: Watch,
  delivery: Delivery,
  now: number,
) {
  const timestamp = new Date(now);
  const secrets = [watch.secret];
  if (watch.previousSecret && watch.previousSecret.until > now) secrets.push(watch.previousSecret.secret);
  const signature = secrets
    .map((secret) => new Webhook(secret).sign(delivery.id, timestamp, delivery.body))
    .join(" ");
  return {
    url: target.url,
    body: delivery.body,
    headers: {
      "webhook-id": delivery.id,
      "webhook-timestamp": String(Math.floor(now / 1000)),
      "webhook-signature": signature,
    },
  };
}

/** One embed per post (title from the caption, its link, author, time, cover); a line for other events. */
function discordMessage(event: EventBody) {
  const post = event.data.post;
  if (!post) return { content: textOf(event, DISCORD_CONTENT_MAX) };
  return {
    embeds: [
      {
        title: cut(post.caption?.split("\n")[0] || "New post", DISCORD_TITLE_MAX),
        url: post.url,
        ...(post.author ? { author: { name: `@${post.author}` } } : {}),
        ...(post.createdAt ? { timestamp: post.createdAt } : {}),
        ...(post.cover ? { image: { url: post.cover } } : {}),
      },
    ],
  };
}

function telegramRequest(target: Extract<WatchTarget, { type: "telegram" }>, event: EventBody, base: URL) {
  return {
    url: joinBase(base, `/bot${target.botToken}/sendMessage`).href,
    body: JSON.stringify({ chat_id: target.chatId, text: textOf(event, TELEGRAM_TEXT_MAX) }),
    headers: {},
  };
}

/**
 * An event as one message of at most `max` characters (Telegram refuses a text over 4,096, Discord a
 * content over 2,000): a long caption is cut, never the post's link.
 */
function textOf(event: EventBody, max: number): string {
  const post = event.data.post;
  if (!post) {
    const url = event.data.watch.url;
    return event.type === "watch.paused"
      ? `Watch of ${url} paused: ${event.data.reason ?? ""}`
      : `Test of the watch of ${url}`;
  }
  const head = `New post${post.author ? ` by @${post.author}` : ""}`;
  const room = max - [...head].length - [...post.url].length - 2;
  return [head, cut(post.caption ?? "", room), post.url].filter(Boolean).join("\n");
}

/** 2xx delivered; 408, 429 and 5xx again later (`Retry-After`, or Telegram's `retry_after`); 410 gone; the rest failed. */
function outcomeOf(status: number, retryAfter: string | undefined, text: string): SendOutcome {
  if (status >= 200 && status < 300) return { kind: "delivered", status };
  if (status === 410) return { kind: "gone", status };
  if (RETRIED_STATUSES.has(status) || status >= 500) {
    const seconds = Number(retryAfter) || telegramRetryAfter(text);
    return {
      kind: "retry",
      status,
      error: `HTTP ${status}`,
      ...(seconds > 0 ? { retryAfterS: seconds } : {}),
    };
  }
  return {
    kind: "failed",
    status,
    error: status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
  };
}

function telegramRetryAfter(text: string): number {
  try {
    const seconds = (JSON.parse(text) as { parameters?: { retry_after?: unknown } }).parameters?.retry_after;
    return typeof seconds === "number" ? seconds : 0;
  } catch {
    return 0;
  }
}
