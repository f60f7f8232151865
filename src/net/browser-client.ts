import { createRequire } from "node:module";
import type { BaseLogger } from "pino";
import { deadline } from "../domain/deadline.js";
import { refusePrivateHost } from "./addresses.js";
import { readCapped, transportFailure } from "./answers.js";
import {
  cookieHeader,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  headerValue,
  storeCookies,
} from "./http-client.js";
import { throughProxy } from "./proxy-label.js";
import type { UpstreamMap } from "./upstreams.js";

type ImpitModule = typeof import("impit");

/** The Chrome that impit impersonates: its TLS and HTTP/2 fingerprint and its own header set. */
export const IMPERSONATED_BROWSER = "chrome142" as const;

/**
 * impit ships its native binary in a registry package per platform; where none fits, the service says
 * so once and uses its plain client instead.
 */
function loadImpit(log: BaseLogger): ImpitModule | undefined {
  try {
    return createRequire(import.meta.url)("impit") as ImpitModule;
  } catch (error) {
    log.warn(
      { err: (error as Error).message },
      "impit cannot be loaded on this platform: TikTok pages are fetched with the plain client (no browser fingerprint)",
    );
    return undefined;
  }
}

export interface BrowserClientOptions {
  upstreams: UpstreamMap;
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
  log: BaseLogger;
  /** Serves media streams, and every request when impit cannot be loaded. */
  plain: HttpClient;
  /** An egress proxy for these requests (http, https or socks5). */
  proxyUrl?: string;
}

/**
 * A client that looks like Chrome to TikTok (yt-dlp sends its TikTok requests with browser
 * impersonation; without it TikTok answers 403s): impit for buffered requests, behind the same guards as
 * the plain client (origin mapping, private addresses refused at every hop, timeouts, a size cap, the
 * caller's cookie jar, redirects only where the caller allows). Streams go through the plain client.
 */
export function createBrowserClient(options: BrowserClientOptions): HttpClient {
  return browserClients(options)(options.plain, options.proxyUrl);
}

/**
 * Makes browser-like clients (one per way out) that share one loading of impit, so a platform without
 * its binary is reported once, not once per proxy.
 */
export function browserClients(options: Omit<BrowserClientOptions, "plain" | "proxyUrl">) {
  // impit's native binary is loaded at the first page request, not at start: an instance that never
  // asks TikTok (providers only, the CLI's --server mode) never maps it.
  let impit: ImpitModule | undefined | null = null;
  const load = () => {
    if (impit === null) impit = loadImpit(options.log);
    return impit;
  };
  return (plain: HttpClient, proxyUrl?: string): HttpClient => {
    let client: HttpClient | undefined;
    const current = () => {
      const module = load();
      if (!module) return plain;
      client ??= impitClient(module, { ...options, plain, proxyUrl });
      return client;
    };
    return {
      request: (req) => current().request(req),
      stream: (req) => plain.stream(req),
      close: async () => {},
    };
  };
}

/**
 * The browser impit impersonates for a request: Safari on iOS when the request says it is an iPhone (the
 * mobile pages), Chrome otherwise, so that the TLS and HTTP/2 fingerprint matches the user agent.
 */
export function impersonationFor(userAgent: string | undefined): "chrome142" | "ios18" {
  return /\b(iPhone|iPad|iPod)\b/.test(userAgent ?? "") ? "ios18" : IMPERSONATED_BROWSER;
}

function impitClient(impit: ImpitModule, options: BrowserClientOptions): HttpClient {
  const profiles = new Map<string, InstanceType<ImpitModule["Impit"]>>();
  const browserFor = (userAgent: string | undefined) => {
    const name = impersonationFor(userAgent);
    let browser = profiles.get(name);
    if (!browser) {
      browser = new impit.Impit({
        browser: name,
        followRedirects: false,
        timeout: options.timeoutMs,
        ...(options.proxyUrl ? { proxyUrl: options.proxyUrl } : {}),
      });
      profiles.set(name, browser);
    }
    return browser;
  };

  async function once(req: HttpRequest, logical: URL, signal: AbortSignal) {
    const transport = options.upstreams.toTransport(logical);
    if (!options.allowPrivate && !options.upstreams.trustedOrigins.has(transport.origin))
      await refusePrivateHost(transport.hostname);
    const headers: Record<string, string> = { ...req.headers };
    const cookie = await cookieHeader(req, logical);
    if (cookie) headers.cookie = cookie;
    const response = await browserFor(headers["user-agent"]).fetch(transport.href, {
      method: req.method ?? "GET",
      headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      signal,
      redirect: "manual",
    });
    if (req.jar) await storeCookies(req.jar, logical, response.headers.getSetCookie());
    return response;
  }

  return {
    async request(req) {
      const timeoutMs = req.timeoutMs ?? options.timeoutMs;
      const limit = deadline(timeoutMs, req.signal);
      const signal = limit.signal;
      let url = new URL(req.url);
      try {
        for (let left = req.redirects?.max ?? 0; ; left--) {
          const response = await once(req, url, signal);
          const location = response.headers.get("location");
          const target =
            location && response.status >= 300 && response.status < 400 ? new URL(location, url) : undefined;
          if (target && left > 0 && req.redirects?.allow(target)) {
            await response.body.cancel().catch(() => {});
            url = target;
            continue;
          }
          const body =
            req.method === "HEAD"
              ? Buffer.alloc(0)
              : await readCapped(response.body, {
                  // impit decompresses: a declared length is the compressed size, so it only refuses the obviously huge.
                  declared: Number(response.headers.get("content-length")),
                  maxBytes: req.maxBytes ?? options.maxBytes,
                  stop: () => response.body.cancel().catch(() => {}),
                });
          return toResponse(response.status, response.headers, url, body);
        }
      } catch (error) {
        throw transportFailure(error, url, timeoutMs, req.signal, throughProxy(options.proxyUrl));
      } finally {
        limit.release();
      }
    },
    stream: (req) => options.plain.stream(req),
    close: async () => {},
  };
}

function toResponse(status: number, headers: Headers, url: URL, body: Buffer): HttpResponse {
  const record: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record["set-cookie"] = cookies;
  return {
    status,
    headers: record,
    url,
    body,
    text: () => body.toString("utf8"),
    header: (name) => headerValue(record[name.toLowerCase()]),
  };
}
