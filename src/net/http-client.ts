import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { CookieJar } from "tough-cookie";
import { Agent, type Dispatcher, ProxyAgent, request, Socks5ProxyAgent } from "undici";
import { deadline } from "../domain/deadline.js";
import { isAbortError, SourceFailure } from "../domain/errors.js";
import { isPrivateAddress } from "./addresses.js";
import { readCapped, transportFailure } from "./answers.js";
import { throughProxy } from "./proxy-label.js";
import type { UpstreamMap } from "./upstreams.js";

export interface HttpRequest {
  url: string | URL;
  method?: "GET" | "POST" | "HEAD";
  headers?: Record<string, string>;
  body?: string;
  /** Cookies are read from and written to this jar, always against the real (logical) address. */
  jar?: CookieJar;
  /** More cookies, sent with the jar's to the hops whose host is in their domains, never stored in it. */
  cookie?: ScopedCookie;
  /** How many redirects to follow, and which targets are acceptable. Default: none. */
  redirects?: { max: number; allow: (target: URL) => boolean };
  timeoutMs?: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The real address that answered, after redirects. */
  url: URL;
  body: Buffer;
  text(): string;
  header(name: string): string | undefined;
}

/** A cookie header and the domains (with their subdomains) it may be sent to, hop by hop. */
export interface ScopedCookie {
  value: string;
  domains: readonly string[];
}

export interface StreamRequest {
  url: string | URL;
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  /** Sent only to the hops whose host is in its domains: a redirect elsewhere never gets it. */
  cookie?: ScopedCookie;
  /** Aborts the upstream request (the client went away). */
  signal?: AbortSignal;
  /** Redirects to follow; each hop is checked like the first (no private addresses). */
  maxRedirects?: number;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  url: URL;
  /** The body, not read yet: the caller pipes it on (or destroys it). */
  body: Readable;
  header(name: string): string | undefined;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** For media: the body is handed over as a stream, never buffered; stalls are bounded by the timeout. */
  stream(req: StreamRequest): Promise<StreamResponse>;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  upstreams: UpstreamMap;
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
  /**
   * An egress proxy (http, https or socks5) every request goes through. The proxy resolves names:
   * only addresses written as IPs can then be checked here.
   */
  proxyUrl?: string;
  /**
   * How long `close()` lets running requests (a body nobody reads) end before it cuts them: a server's
   * shutdown lets tunnels finish; a library's `close()` ends what its caller left (0).
   */
  closeGraceMs?: number;
}

/** How long closing waits for requests still running (a body nobody reads) before it cuts them. */
const CLOSE_GRACE_MS = 5_000;

/** Closes a pool: its running requests get `graceMs` to end, then they are cut. */
async function closeWithin(dispatcher: Dispatcher, graceMs: number) {
  if (graceMs <= 0) return void (await dispatcher.destroy());
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), graceMs);
  });
  const closed = dispatcher.close();
  try {
    if ((await Promise.race([closed, late])) === "late") await dispatcher.destroy();
  } finally {
    clearTimeout(timer);
  }
}

/** The statuses that carry a Location to follow. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const STREAM_BODY_TIMEOUT_MS = 60_000;

type Sent = HttpRequest & { bodyTimeoutMs?: number };

/**
 * The requests themselves: the address checked (no private ones unless allowed or the operator's own
 * origin), cookies sent and kept, redirects followed as the caller allows, over pooled connections.
 */
function createSender(options: HttpClientOptions) {
  const timeouts = { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
  const agent: Dispatcher = options.proxyUrl
    ? proxyAgent(options.proxyUrl, options.timeoutMs)
    : new Agent({
        connect: { timeout: options.timeoutMs, lookup: guardedLookup(options.allowPrivate) },
        ...timeouts,
        keepAliveTimeout: 10_000,
      });

  async function once(req: Sent, logical: URL, signal: AbortSignal) {
    const transport = options.upstreams.toTransport(logical);
    const trusted = options.upstreams.trustedOrigins.has(transport.origin);
    if (!options.allowPrivate && !trusted && isIP(transport.hostname.replace(/^\[|\]$/g, "")) !== 0) {
      if (isPrivateAddress(transport.hostname))
        throw new SourceFailure("refused_target", `refused to fetch a private address (${transport.host})`);
    }
    const headers: Record<string, string> = { ...req.headers };
    const cookie = await cookieHeader(req, logical);
    if (cookie) headers.cookie = cookie;
    headers["accept-encoding"] ??= "gzip, deflate, br";
    const response = await request(transport, {
      method: req.method ?? "GET",
      headers,
      body: req.body,
      signal,
      dispatcher: trusted ? trustedAgent : agent,
      ...(req.bodyTimeoutMs === undefined ? {} : { bodyTimeout: req.bodyTimeoutMs }),
    });
    if (req.jar) await storeCookies(req.jar, logical, response.headers["set-cookie"]);
    return response;
  }

  // Operator-configured origins may live on private addresses (a mirror, or our tests' fakes).
  const trustedAgent: Dispatcher = options.proxyUrl
    ? agent
    : new Agent({ connect: { timeout: options.timeoutMs }, ...timeouts });

  /**
   * Sends a request and follows at most `max` redirects whose target `allow` accepts; `where.url` is
   * always the address asked last (for error messages). The last answer is returned unread.
   */
  async function follow(
    req: Sent,
    where: { url: URL },
    signal: AbortSignal,
    max: number,
    allow: (target: URL) => boolean,
  ) {
    for (let left = max; ; left--) {
      const response = await once(req, where.url, signal);
      const location = headerValue(response.headers.location);
      if (!REDIRECT_STATUSES.has(response.statusCode) || !location || left <= 0) return response;
      const target = new URL(location, where.url);
      if (!allow(target)) return response;
      await response.body.dump();
      where.url = target;
    }
  }

  return {
    follow,
    close: () =>
      Promise.all(
        [...new Set([agent, trustedAgent])].map((pool) =>
          closeWithin(pool, options.closeGraceMs ?? CLOSE_GRACE_MS),
        ),
      ),
  };
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const via = throughProxy(options.proxyUrl);
  const { follow, close } = createSender(options);
  return {
    async request(req) {
      const timeoutMs = req.timeoutMs ?? options.timeoutMs;
      const limit = deadline(timeoutMs, req.signal);
      const where = { url: new URL(req.url) };
      try {
        const response = await follow(
          req,
          where,
          limit.signal,
          req.redirects?.max ?? 0,
          (target) => req.redirects?.allow(target) ?? false,
        );
        const raw =
          req.method === "HEAD"
            ? Buffer.alloc(0)
            : await readDecoded(response.body, response.headers, req.maxBytes ?? options.maxBytes);
        const headers = response.headers;
        return {
          status: response.statusCode,
          headers,
          url: where.url,
          body: raw,
          text: () => raw.toString("utf8"),
          header: (name) => headerValue(headers[name.toLowerCase()]),
        };
      } catch (error) {
        throw transportFailure(error, where.url, timeoutMs, req.signal, via);
      } finally {
        limit.release();
      }
    },
    async stream(req) {
      const where = { url: new URL(req.url) };
      const media = {
        url: req.url,
        method: req.method,
        headers: { "accept-encoding": "identity", ...req.headers },
        cookie: req.cookie,
        // A client that pauses (a player, a slow phone) stops the reading for a while: allow it.
        bodyTimeoutMs: STREAM_BODY_TIMEOUT_MS,
      };
      try {
        // Every hop is checked like the first (no private addresses), so any target may be followed.
        const response = await follow(
          media,
          where,
          req.signal ?? new AbortController().signal,
          req.maxRedirects ?? 3,
          () => true,
        );
        const headers = response.headers;
        return {
          status: response.statusCode,
          headers,
          url: where.url,
          body: response.body,
          header: (name) => headerValue(headers[name.toLowerCase()]),
        };
      } catch (error) {
        throw transportFailure(error, where.url, options.timeoutMs, req.signal, via);
      }
    },
    async close() {
      await close();
    },
  };
}

function proxyAgent(proxyUrl: string, timeoutMs: number): Dispatcher {
  const timeouts = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
  if (/^socks5?h?:/i.test(proxyUrl))
    return new Socks5ProxyAgent(proxyUrl, { connect: { timeout: timeoutMs } } as never);
  return new ProxyAgent({
    uri: proxyUrl,
    proxyTls: { timeout: timeoutMs },
    requestTls: { timeout: timeoutMs },
    ...timeouts,
  });
}

/** The Cookie header of one hop: the jar's cookies for it, then the scoped ones whose domains include it. */
export async function cookieHeader(req: Pick<HttpRequest, "jar" | "cookie">, logical: URL): Promise<string> {
  const parts = [
    req.jar ? await req.jar.getCookieString(logical.href) : "",
    req.cookie?.value && inDomains(logical.hostname, req.cookie.domains) ? req.cookie.value : "",
  ];
  return parts.filter(Boolean).join("; ");
}

function inDomains(hostname: string, domains: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function storeCookies(jar: CookieJar, url: URL, setCookie: string | string[] | undefined) {
  const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  for (const line of lines) {
    // A cookie the jar refuses (bad domain, …) is simply not kept, as a browser would do.
    await jar.setCookie(line, url.href, { ignoreError: true });
  }
}

/** An answer's body, decoded as its Content-Encoding says, read whole within `maxBytes`. */
async function readDecoded(
  body: Readable,
  headers: Record<string, string | string[] | undefined>,
  maxBytes: number,
): Promise<Buffer> {
  const encoding = headerValue(headers["content-encoding"])?.trim().toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "br"
        ? createBrotliDecompress()
        : encoding === "deflate"
          ? createInflate()
          : undefined;
  const stream: Readable = decoder ? body.pipe(decoder) : body;
  if (decoder) body.on("error", (error) => decoder.destroy(error));
  const stop = () => {
    body.destroy();
    decoder?.destroy();
  };
  try {
    return await readCapped(stream, {
      declared: Number(headerValue(headers["content-length"])),
      maxBytes,
      stop,
    });
  } catch (error) {
    stop();
    if (error instanceof SourceFailure) throw error;
    if (decoder && !isAbortError(error) && (error as { code?: string }).code?.startsWith("Z_"))
      throw new SourceFailure("bad_response", "answer could not be decompressed");
    throw error;
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A DNS lookup that refuses names resolving to private addresses, so redirects cannot reach the LAN. */
function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    dnsLookup(hostname, { family, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = !allowPrivate && addresses.some((entry) => isPrivateAddress(entry.address));
      if (refused) {
        const denial = Object.assign(new Error(`refused: ${hostname} resolves to a private address`), {
          code: "EREFUSED_PRIVATE",
        });
        return callback(denial, []);
      }
      const first = addresses[0];
      if (options.all) return callback(null, addresses);
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      return callback(null, first.address, first.family);
    });
  };
}
