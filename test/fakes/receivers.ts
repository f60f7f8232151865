/**
 * Where watches deliver, faked: a Standard Webhooks receiver that verifies every request with the
 * `standardwebhooks` package (not our code) and answers as a test scripts it, a Discord webhook and the
 * Telegram Bot API, each as strict as the real one about what it accepts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The verified event (webhook receiver), or the parsed JSON (Discord, Telegram). */
  json: Record<string, any>;
  /** Which of the receiver's secrets verified it (webhook receiver). */
  verifiedBy?: string;
}

/** A scripted answer: a status (and headers), or "hang" for none at all, or "redirect". */
export type Answer = number | "hang" | { status: number; headers?: Record<string, string>; body?: string };

abstract class FakeServer {
  private server?: Server;
  readonly received: Received[] = [];
  url = "";
  /** Answers for the next requests, in order; 200 once they run out. */
  readonly script: Answer[] = [];
  private hanging: ServerResponse[] = [];

  async start() {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => this.answer(request, Buffer.concat(chunks).toString("utf8"), response));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close() {
    for (const response of this.hanging) response.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  protected abstract accept(request: IncomingMessage, body: string): Received | { refuse: number };

  private answer(request: IncomingMessage, body: string, response: ServerResponse) {
    const accepted = this.accept(request, body);
    if ("refuse" in accepted) return void response.writeHead(accepted.refuse).end("refused");
    this.received.push(accepted);
    const next = this.script.shift() ?? 200;
    if (next === "hang") return void this.hanging.push(response);
    const { status, headers, body: text } = typeof next === "number" ? { status: next } : next;
    response.writeHead(status, { "content-type": "application/json", ...headers }).end(text ?? '{"ok":true}');
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

/** A Discord webhook: JSON with `content` or `embeds` (at most ten, a title at most 256 characters). */
export class FakeDiscord extends FakeServer {
  protected accept(request: IncomingMessage, body: string): Received | { refuse: number } {
    if (!/^\/api\/webhooks\/\d+\/[\w-]+$/.test(request.url ?? "")) return { refuse: 404 };
    const json = JSON.parse(body) as Record<string, any>;
    const embeds = (json.embeds ?? []) as { title?: string }[];
    if (
      (!json.content && embeds.length === 0) ||
      embeds.length > 10 ||
      embeds.some((e) => (e.title?.length ?? 0) > 256)
    )
      return { refuse: 400 };
    return { path: request.url ?? "/", headers: request.headers, body, json };
  }
}

/** The Telegram Bot API's `sendMessage`: the known bot's token in the path, a `chat_id` and a `text`. */
export class FakeTelegram extends FakeServer {
  constructor(readonly token: string) {
    super();
  }

  protected accept(request: IncomingMessage, body: string): Received | { refuse: number } {
    if (request.url !== `/bot${this.token}/sendMessage`) return { refuse: 401 };
    const json = JSON.parse(body) as Record<string, any>;
    if (!json.chat_id || !json.text) return { refuse: 400 };
    return { path: request.url, headers: request.headers, body, json };
  }
}
