import type { IncomingMessage, ServerResponse } from "node:http";
import { type LocalServer, listenLocally } from "../../support/local-server.js";
import { parseCookies } from "../cookies.js";

/** What one provider fake gets: the request with its body read, the path under its prefix. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  json: unknown;
  headers: IncomingMessage["headers"];
  cookies: Map<string, string>;
  /** The fake's own base, prefix included (for links it gives back). */
  base: string;
}

export interface FakeAnswer {
  status?: number;
  type?: string;
  body: string;
  headers?: Record<string, string | string[]>;
}

export type FakeHandler = (request: FakeRequest) => FakeAnswer | Promise<FakeAnswer>;

/**
 * What the provider's code must make of this fake's answers (yt-dlp keeps its expected results beside
 * each extractor; here they sit beside each fake): the video fields (given the fake's base), the music
 * link, whether photo posts work, and the answer for a post the site does not find.
 */
export interface Expectation {
  video: (base: string) => Record<string, string | undefined>;
  /** Fields that must match a pattern rather than equal a value. */
  videoPatterns?: Record<string, RegExp>;
  musicUrl?: string;
  photo: boolean;
  missing: [number, string];
  /** Caption, author and counts are read too. */
  details?: boolean;
}

/** A provider's fake: how it answers, and what our code must read from it. */
export interface ProviderFake {
  handler: FakeHandler;
  expected: Expectation;
}

/** How a fake misbehaves, for the rotation tests and the fault bench. */
export type Fault = "http500" | "timeout" | "reset" | "garbage" | { delayMs: number };

/**
 * One local server for every provider fake, each under its own path prefix (`/tikwm/…`), the way an
 * operator's `UPSTREAM_TIKWM=http://host/tikwm` would point at a mirror.
 */
export class FakeProviders {
  readonly hits = new Map<string, number>();
  readonly faults = new Map<string, Fault>();
  private server: LocalServer | undefined;
  private origin = "";

  constructor(private readonly handlers: Record<string, FakeHandler>) {}

  async start(): Promise<this> {
    this.server = await listenLocally((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    this.origin = this.server.url;
    return this;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  baseOf(name: string): string {
    return `${this.origin}/${name}`;
  }

  /** `UPSTREAM_<NAME>` variables for every fake. */
  env(): Record<string, string> {
    return Object.fromEntries(
      Object.keys(this.handlers).map((name) => [`UPSTREAM_${name.toUpperCase()}`, this.baseOf(name)]),
    );
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", this.origin);
    const [, name = "", ...rest] = url.pathname.split("/");
    const handler = this.handlers[name];
    if (!handler) return void response.writeHead(404).end();
    this.hits.set(name, (this.hits.get(name) ?? 0) + 1);
    const raw = await readBody(request);
    const fault = this.faults.get(name);
    if (fault === "reset") return void request.socket.destroy();
    if (fault === "timeout") return; // never answers
    if (fault === "http500")
      return void response.writeHead(500, { "content-type": "text/html" }).end("<h1>500</h1>");
    if (fault === "garbage")
      return void response.writeHead(200, { "content-type": "text/html" }).end("\u0000\u00ff<<garbage>>");
    if (fault) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    const type = request.headers["content-type"] ?? "";
    let json: unknown;
    if (type.includes("json")) {
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
    }
    const answer = await handler({
      method: request.method ?? "GET",
      path: `/${rest.join("/")}`,
      query: url.searchParams,
      form: type.includes("urlencoded") ? new URLSearchParams(raw) : new URLSearchParams(),
      json,
      headers: request.headers,
      cookies: parseCookies(request.headers.cookie),
      base: this.baseOf(name),
    });
    response.writeHead(answer.status ?? 200, {
      "content-type": answer.type ?? "text/html; charset=utf-8",
      ...answer.headers,
    });
    response.end(answer.body);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const json = (body: unknown, status = 200): FakeAnswer => ({
  status,
  type: "application/json; charset=utf-8",
  body: JSON.stringify(body),
});

export const html = (
  body: string,
  status = 200,
  headers?: Record<string, string | string[]>,
): FakeAnswer => ({
  status,
  body,
  headers,
});

export const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
