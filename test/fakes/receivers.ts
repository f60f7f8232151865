/**
 * Where watches deliver, faked: a Standard Webhooks receiver that verifies every request with the
 * `standardwebhooks` package (not our code) and answers as a test scripts it, a Discord webhook and the
 * Telegram Bot API, each as strict as the real one about what it accepts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import { type LocalServer, listenLocally } from "../support/local-server.js";

export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The verified event (webhook receiver), or the parsed JSON (Discord, Telegram). */
  json: Record<string, any>;
  /** Which of the receiver's secrets verified it (webhook receiver). */
  verifiedBy?: string;
}

/** A request the receiver refuses, with its status and the body the real service would give. */
type Refusal = { refuse: number; body?: string };

/** A scripted answer: a status (and headers), or "hang" for none at all, or "redirect". */
export type Answer = number | "hang" | { status: number; headers?: Record<string, string>; body?: string };

abstract class FakeServer {
  private server?: LocalServer;
  readonly received: Received[] = [];
  url = "";
  /** Answers for the next requests, in order; 200 once they run out. */
  readonly script: Answer[] = [];
  private hanging: ServerResponse[] = [];

  async start() {
    this.server = await listenLocally((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => this.answer(request, Buffer.concat(chunks).toString("utf8"), response));
    });
    this.url = this.server.url;
    return this;
  }

  async close() {
    for (const response of this.hanging) response.destroy();
    await this.server?.close();
  }

  protected abstract accept(request: IncomingMessage, body: string): Received | Refusal;

  /** What the receiver answers a request it took when the script says nothing else. */
  protected success: { status: number; body?: string; headers?: Record<string, string> } = {
    status: 200,
    body: '{"ok":true}',
  };

  private answer(request: IncomingMessage, body: string, response: ServerResponse) {
    const accepted = this.accept(request, body);
    if ("refuse" in accepted)
      return void response
        .writeHead(accepted.refuse, { "content-type": "application/json" })
        .end(accepted.body ?? '{"error":"refused"}');
    this.received.push(accepted);
    const next = this.script.shift() ?? this.success;
    if (next === "hang") return void this.hanging.push(response);
    const { status, headers, body: text } = typeof next === "number" ? { status: next } : next;
    response.writeHead(status, { "content-type": "application/json", ...headers }).end(text ?? "");
  }
}

/** A Standard Webhooks receiver: a request that does not verify with one of its secrets is a 401. */
export class FakeWebhookReceiver extends FakeServer {
  readonly secrets: string[] = [];
  readonly refused: { headers: IncomingMessage["headers"] }[] = [];

  protected accept(request: IncomingMessage, body: string): Received | { refuse: number } {
    const headers = Object.fromEntries(
      ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => [
        name,
        String(request.headers[name] ?? ""),
      ]),
    );
    for (const secret of this.secrets) {
      try {
        const json = new Webhook(secret).verify(body, headers) as Record<string, any>;
        return { path: request.url ?? "/", headers: request.headers, body, json, verifiedBy: secret };
      } catch {
        // the next secret
      }
    }
    this.refused.push({ headers: request.headers });
    return { refuse: 401 };
  }

  events(type?: string) {
    return this.received.filter((entry) => !type || entry.json.type === type);
  }
}

/**
 * The fields of a body sent as JSON (or, where the service takes forms too, as a form), or undefined for
 * one it cannot read: Discord and Telegram answer that with a 400. (Discord's multipart form is not faked.)
 */
function bodyFields(request: IncomingMessage, body: string, forms = false): Record<string, any> | undefined {
  const type = String(request.headers["content-type"] ?? "");
  if (forms && /^application\/x-www-form-urlencoded\b/i.test(type))
    return Object.fromEntries(new URLSearchParams(body));
  if (!/^application\/json\b/i.test(type)) return undefined;
  try {
    const json: unknown = JSON.parse(body);
    return json !== null && typeof json === "object" ? (json as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

const isHttpUrl = (value: unknown) => typeof value === "string" && /^https?:\/\/[^\s]+$/.test(value);
const chars = (value: unknown) => (typeof value === "string" ? [...value].length : 0);

/**
 * A Discord webhook, as strict as Discord's: `content` (at most 2,000 characters) or `embeds` (at most
 * ten; a title and an author's name at most 256, addresses http(s), a timestamp ISO 8601, at most 6,000
 * characters in all), refused with Discord's 400 `{code: 50006 | 50035}`; taken with 204 and no body.
 */
export class FakeDiscord extends FakeServer {
  protected override success = { status: 204 };

  protected accept(request: IncomingMessage, body: string): Received | Refusal {
    if (!/^\/api\/webhooks\/\d+\/[\w-]+$/.test(request.url ?? ""))
      return { refuse: 404, body: '{"message": "Unknown Webhook", "code": 10015}' };
    const json = bodyFields(request, body);
    if (!json) return { refuse: 400, body: '{"message": "Cannot send an empty message", "code": 50006}' };
    const embeds = (json.embeds ?? []) as Record<string, any>[];
    if (!json.content && embeds.length === 0)
      return { refuse: 400, body: '{"message": "Cannot send an empty message", "code": 50006}' };
    const invalid =
      chars(json.content) > 2000 ||
      embeds.length > 10 ||
      embeds.some(
        (embed) =>
          chars(embed.title) > 256 ||
          chars(embed.author?.name) > 256 ||
          (embed.url !== undefined && !isHttpUrl(embed.url)) ||
          (embed.image !== undefined && !isHttpUrl(embed.image?.url)) ||
          (embed.timestamp !== undefined && Number.isNaN(Date.parse(embed.timestamp))) ||
          chars(embed.title) + chars(embed.description) + chars(embed.author?.name) > 6000,
      );
    if (invalid) return { refuse: 400, body: '{"message": "Invalid Form Body", "code": 50035}' };
    return { path: request.url ?? "/", headers: request.headers, body, json };
  }
}

/**
 * The Telegram Bot API's `sendMessage`, as strict as Telegram's: the known bot's token in the path (401
 * otherwise), a `chat_id`, and a `text` of 1 to 4,096 characters; errors as `{ok: false, error_code,
 * description}`, success as `{ok: true, result}`.
 */
export class FakeTelegram extends FakeServer {
  protected override success = { status: 200, body: '{"ok":true,"result":{"message_id":1}}' };

  constructor(readonly token: string) {
    super();
  }

  protected accept(request: IncomingMessage, body: string): Received | Refusal {
    const refuse = (code: number, description: string) => ({
      refuse: code,
      body: JSON.stringify({ ok: false, error_code: code, description }),
    });
    if (request.url !== `/bot${this.token}/sendMessage`) return refuse(401, "Unauthorized");
    const json = bodyFields(request, body, true);
    if (!json) return refuse(400, "Bad Request: message text is empty");
    if (!json.chat_id) return refuse(400, "Bad Request: chat_id is empty");
    if (!json.text) return refuse(400, "Bad Request: message text is empty");
    if (chars(json.text) > 4096) return refuse(400, "Bad Request: message is too long");
    return { path: request.url, headers: request.headers, body, json };
  }
}
