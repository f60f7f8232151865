import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parseEnv } from "node:util";
import { z } from "zod";
import type { HostPort, RedisTarget } from "../stores/redis-connect.js";

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => ["", "0", "1", "true", "false", "yes", "no"].includes(value), {
    message: "expected true/false, yes/no or 1/0",
  })
  .transform((value) => ["1", "true", "yes"].includes(value));

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const httpBase = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//i.test(value), { message: "expected an http(s) URL" });

/**
 * `TRUST_PROXY` follows Fastify's `trustProxy`: "true" trusts every proxy (only behind one you run),
 * a number trusts that many hops, anything else is a comma-separated list of proxy addresses/CIDRs.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((value): boolean | number | string[] => {
    if (value === "" || /^(false|no|0)$/i.test(value)) return false;
    if (/^(true|yes)$/i.test(value)) return true;
    if (/^\d+$/.test(value)) return Number(value);
    return value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
  })
  .refine((value) => !Array.isArray(value) || value.every(isAddressOrRange), {
    message: "expected true, a number of hops, or proxy IP addresses and CIDR ranges (not host names)",
  });

/** An IPv4 or IPv6 address, or a CIDR range of one. */
function isAddressOrRange(value: string): boolean {
  const [address, bits, extra] = value.split("/");
  if (extra !== undefined || !address || isIP(address) === 0) return false;
  if (bits === undefined) return true;
  const limit = isIP(address) === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= limit;
}

const schema = z.object({
  PORT: integer(0, 65535).default(3000),
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  REDIS_URL: z
    .string()
    .trim()
    .refine((value) => value === "" || /^rediss?:\/\//i.test(value), {
      message: "expected redis:// or rediss://",
    })
    .optional(),
  REDIS_CLUSTER_NODES: z.string().trim().optional(),
  REDIS_SENTINELS: z.string().trim().optional(),
  REDIS_SENTINEL_NAME: z.string().trim().min(1).default("mymaster"),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_PREFIX: z.string().min(1).default("tiktok-dl:"),
  CACHE_TTL: integer(1, 30 * 86_400).default(3600),
  CACHE_MAX_ENTRIES: integer(1, 10_000_000).default(10_000),
  CACHE_LOCAL_TTL: integer(0, 3600).default(5),
  NEGATIVE_CACHE_TTL: integer(0, 86_400).default(60),
  LIST_CACHE_TTL: integer(0, 86_400).default(300),
  MAX_ATTEMPTS: integer(1, 20).default(3),
  UPSTREAM_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  UPSTREAM_MAX_BYTES: integer(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  RATE_LIMIT: integer(0, 1_000_000).default(60),
  STREAM_SECRET: z.string().min(16, { message: "use at least 16 characters" }).optional(),
  STREAM_TTL: integer(10, 7 * 86_400).default(3600),
  STREAM_MAX_CONCURRENT: integer(1, 100_000).default(64),
  STREAM_MAX_PER_CLIENT: integer(1, 100_000).default(4),
  STREAM_RATE_LIMIT: integer(0, 1_000_000).default(600),
  STREAM_MAX_BYTES: integer(1024, 64 * 1024 ** 3).default(2 * 1024 ** 3),
  STREAM_STALL_MS: integer(1_000, 3_600_000).default(60_000),
  STREAM_MIN_RATE: integer(0, 1024 ** 3).default(8 * 1024),
  CIRCUIT_FAILURES: integer(1, 1000).default(3),
  CIRCUIT_COOLDOWN_MS: integer(100, 3_600_000).default(30_000),
  HEDGE_FLOOR_MS: integer(50, 120_000).default(1_500),
  TRUST_PROXY: trustProxy.default(false),
  ALLOW_PRIVATE_UPSTREAMS: flag.default(false),
  TIKTOK_COOKIES: z.string().trim().min(1).optional(),
  TIKTOK_SESSIONS: integer(1, 1_000).default(4),
  TIKTOK_SESSION_MAX_AGE: integer(10, 7 * 86_400).default(1_800),
  PROXY_REST_MS: integer(1_000, 3_600_000).default(60_000),
  REQUEST_TIMEOUT_MS: integer(500, 600_000).default(30_000),
  HEADERS_TIMEOUT_MS: integer(500, 600_000).default(15_000),
  KEEP_ALIVE_TIMEOUT_MS: integer(100, 600_000).default(5_000),
  MAX_CONNECTIONS_PER_CLIENT: integer(0, 1_000_000).default(256),
  API_KEYS_FILE: z.string().trim().min(1).optional(),
  API_AUTH_REQUIRED: flag.default(false),
  CORS_ORIGINS: z
    .string()
    .trim()
    .default("*")
    .transform((value) =>
      value === "*"
        ? "*"
        : value
            .split(",")
            .map((origin) => origin.trim())
            .filter(Boolean),
    )
    .refine((value) => value === "*" || value.every((origin) => /^https?:\/\/[^/\s]+$/i.test(origin)), {
      message: "expected * or comma-separated origins such as https://example.com",
    }),
  STORED_LINKS: z.enum(["public", "keys", "off"]).default("public"),
  BATCH_MAX: integer(1, 1_000).default(50),
  MAX_EVENT_LOOP_DELAY_MS: integer(0, 60_000).default(1_000),
  MAX_HEAP_USED_MB: integer(0, 1024 * 1024).optional(),
  SOURCES: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((name) => name.trim().toLowerCase())
        .filter(Boolean),
    )
    .optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ENV_FILE: z.string().trim().min(1).optional(),
});

/** The single-valued variables the configuration reads (the library checks its options against them). */
export const SETTING_NAMES: ReadonlySet<string> = new Set([...Object.keys(schema.shape), "PROXY_URL"]);

export interface Config {
  port: number;
  host: string;
  /** `REDIS_URL` as given (one node). */
  redisUrl?: string;
  /** Where the shared store is: one node (`REDIS_URL`), a Cluster or a Sentinel-watched master; absent, none. */
  redis?: RedisTarget;
  redisPrefix: string;
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  /** With Redis: seconds a near (in-process) copy of an entry is served before Redis is read again; 0 = none. */
  cacheLocalTtlSeconds: number;
  negativeCacheTtlSeconds: number;
  /** Seconds a page of a profile, collection or playlist is cached; 0 = not cached. */
  listCacheTtlSeconds: number;
  maxAttempts: number;
  upstreamTimeoutMs: number;
  upstreamMaxBytes: number;
  /** Requests per minute per client on /api/download; 0 turns the limit off. */
  rateLimit: number;
  /** Signs and encrypts tunnel links; absent, a random per-process secret (single instance only). */
  streamSecret?: string;
  streamTtlSeconds: number;
  streamMaxConcurrent: number;
  /** Tunnels one client may run at once. */
  streamMaxPerClient: number;
  /** Tunnel requests per minute per client (a player seeks with many range requests); 0 = off. */
  streamRateLimit: number;
  /** The largest file the tunnel relays. */
  streamMaxBytes: number;
  /** A tunnel that moves no byte for this long is cut (its client stopped reading). */
  streamStallMs: number;
  /** Bytes a second a tunnel's client must read, over a minute, when it is the bottleneck; 0 = no floor. */
  streamMinRate: number;
  /** Consecutive failures that open a source's circuit, and how long it rests before a probe. */
  circuitFailures: number;
  circuitCooldownMs: number;
  /** The least a slow source is given before another is started beside it. */
  hedgeFloorMs: number;
  trustProxy: boolean | number | string[];
  /** Lets upstream requests reach private/loopback addresses (tests, LAN mirrors). */
  allowPrivateUpstreams: boolean;
  logLevel: string;
  /**
   * Egress proxies: `default` from `PROXY_URL`, and one pool per upstream from `PROXY_<NAME>` (lower-case
   * name, "tiktok" for the native source and TikTok's CDN). Each a list used in turn.
   */
  proxies: Record<string, string[]>;
  /** How long a proxy that failed or got blocked is left out of its pool. */
  proxyRestMs: number;
  /** The whole request (headers and body) must arrive within this; a trickling client is cut. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections one client address may hold; 0 = no cap. */
  maxConnectionsPerClient: number;
  /** The operator's API keys file (cobalt's format); absent, every client is anonymous. */
  apiKeysFile?: string;
  /** Refuse requests to the API without a valid key. */
  apiAuthRequired: boolean;
  /** Origins allowed by CORS: "*" or a list. */
  corsOrigins: "*" | string[];
  /** Who may list the cached posts: everyone, key holders only, or no one. */
  storedLinks: "public" | "keys" | "off";
  /** Links one batch request may carry. */
  batchMax: number;
  /** Load shedding: requests get a 503 while the event loop lags more than this (ms); 0 = off. */
  maxEventLoopDelayMs: number;
  /** Load shedding on the heap (MiB); absent, 90% of the heap limit; 0 = off. */
  maxHeapUsedMb?: number;
  /** A Netscape cookies.txt whose `.tiktok.com` cookies go with the native source's page requests. */
  tiktokCookiesFile?: string;
  /** TikTok sessions (cookie jars past the WAF) kept per way out, and how long one is used (seconds). */
  tiktokSessions: number;
  tiktokSessionMaxAgeSeconds: number;
  /** The sources this instance runs (`SOURCES`); absent, all of them. The others are never contacted. */
  sources?: string[];
  /** `UPSTREAM_<NAME>` overrides, keyed by lower-case name ("tiktok", "tikwm", ...). */
  upstreams: Record<string, string>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const UPSTREAM_PREFIX = "UPSTREAM_";
/** `UPSTREAM_TIMEOUT_MS` and `UPSTREAM_MAX_BYTES` are settings, not origins. */
const UPSTREAM_SETTINGS = new Set(["UPSTREAM_TIMEOUT_MS", "UPSTREAM_MAX_BYTES"]);

const PROXY_PREFIX = "PROXY_";
const PROXY_SETTINGS = new Set(["PROXY_REST_MS"]);

/** `PROXY_URL` and `PROXY_<NAME>`: comma-separated http(s) or socks5 URLs, credentials allowed. */
function readProxies(env: Record<string, string | undefined>, problems: string[]): Record<string, string[]> {
  const pools: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(PROXY_PREFIX) || PROXY_SETTINGS.has(key) || value === undefined) continue;
    const name = key === "PROXY_URL" ? "default" : key.slice(PROXY_PREFIX.length).toLowerCase();
    if (!/^[a-z0-9_]+$/.test(name)) {
      problems.push(`${key}: not a valid upstream name`);
      continue;
    }
    const urls = value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
    // The value is never repeated in a message: it may hold a password.
    if (urls.length === 0 || !urls.every(isProxyUrl))
      problems.push(`${key}: expected http://, https:// or socks5:// URLs`);
    else pools[name] = urls;
  }
  return pools;
}

function isProxyUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return /^(https?|socks5h?|socks):$/.test(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
}

/**
 * The variables of `ENV_FILE` (a dotenv file, cobalt's `API_ENV_FILE`) under the environment's own: a
 * variable set in the environment wins over the file, as dotenv does.
 */
export function withEnvFile(env: Readonly<Record<string, string | undefined>>) {
  const path = env.ENV_FILE?.trim();
  if (!path) return env;
  return { ...readEnvFile(path), ...env };
}

/** A dotenv file's variables (Node's own parser), or a ConfigError that names the file. */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(
      `ENV_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  return parseEnv(text) as Record<string, string>;
}

/** `host:port` pairs, comma-separated (`REDIS_CLUSTER_NODES`, `REDIS_SENTINELS`). */
function hostPorts(name: string, value: string, problems: string[]): HostPort[] {
  const pairs = value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => /^(\[[0-9a-f:]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(part));
  if (pairs.length === 0 || pairs.some((match) => !match || Number(match[2]) > 65_535)) {
    problems.push(`${name}: expected host:port pairs separated by commas`);
    return [];
  }
  return pairs.map((match) => ({
    host: (match?.[1] ?? "").replace(/^\[|\]$/g, ""),
    port: Number(match?.[2]),
  }));
}

/** One of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS (with REDIS_SENTINEL_NAME), or none. */
function readRedisTarget(values: z.infer<typeof schema>, problems: string[]): RedisTarget | undefined {
  const given = [values.REDIS_URL, values.REDIS_CLUSTER_NODES, values.REDIS_SENTINELS].filter(Boolean);
  if (given.length > 1) {
    problems.push("REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS: set one of them, not several");
    return undefined;
  }
  const password = values.REDIS_PASSWORD;
  if (values.REDIS_CLUSTER_NODES)
    return {
      kind: "cluster",
      nodes: hostPorts("REDIS_CLUSTER_NODES", values.REDIS_CLUSTER_NODES, problems),
      password,
    };
  if (values.REDIS_SENTINELS)
    return {
      kind: "sentinel",
      sentinels: hostPorts("REDIS_SENTINELS", values.REDIS_SENTINELS, problems),
      name: values.REDIS_SENTINEL_NAME,
      password,
    };
  return values.REDIS_URL ? { kind: "node", url: values.REDIS_URL } : undefined;
}

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(given: Readonly<Record<string, string | undefined>> = process.env): Config {
  const env = withEnvFile(given);
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const parsed = schema.safeParse(defined);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);

  const upstreams: Record<string, string> = {};
  for (const [key, value] of Object.entries(defined)) {
    if (!key.startsWith(UPSTREAM_PREFIX) || UPSTREAM_SETTINGS.has(key) || value === undefined) continue;
    const name = key.slice(UPSTREAM_PREFIX.length).toLowerCase();
    const base = httpBase.safeParse(value.trim());
    if (!/^[a-z0-9_]+$/.test(name)) problems.push(`${key}: not a valid upstream name`);
    else if (!base.success) problems.push(`${key}: expected an http(s) URL`);
    else upstreams[name] = base.data;
  }
  const proxies = readProxies(defined, problems);
  if (parsed.success && parsed.data.API_AUTH_REQUIRED && !parsed.data.API_KEYS_FILE)
    problems.push("API_AUTH_REQUIRED: needs API_KEYS_FILE (no key could ever be valid)");
  if (parsed.success && parsed.data.STORED_LINKS === "keys" && !parsed.data.API_KEYS_FILE)
    problems.push("STORED_LINKS=keys: needs API_KEYS_FILE");
  const redis = parsed.success ? readRedisTarget(parsed.data, problems) : undefined;
  if (problems.length > 0 || !parsed.success)
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);

  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    redisUrl: values.REDIS_URL || undefined,
    redis,
    redisPrefix: values.REDIS_PREFIX,
    cacheTtlSeconds: values.CACHE_TTL,
    cacheMaxEntries: values.CACHE_MAX_ENTRIES,
    cacheLocalTtlSeconds: values.CACHE_LOCAL_TTL,
    negativeCacheTtlSeconds: values.NEGATIVE_CACHE_TTL,
    listCacheTtlSeconds: values.LIST_CACHE_TTL,
    maxAttempts: values.MAX_ATTEMPTS,
    upstreamTimeoutMs: values.UPSTREAM_TIMEOUT_MS,
    upstreamMaxBytes: values.UPSTREAM_MAX_BYTES,
    rateLimit: values.RATE_LIMIT,
    streamSecret: values.STREAM_SECRET,
    streamTtlSeconds: values.STREAM_TTL,
    streamMaxConcurrent: values.STREAM_MAX_CONCURRENT,
    streamMaxPerClient: values.STREAM_MAX_PER_CLIENT,
    streamRateLimit: values.STREAM_RATE_LIMIT,
    streamMaxBytes: values.STREAM_MAX_BYTES,
    streamStallMs: values.STREAM_STALL_MS,
    streamMinRate: values.STREAM_MIN_RATE,
    circuitFailures: values.CIRCUIT_FAILURES,
    circuitCooldownMs: values.CIRCUIT_COOLDOWN_MS,
    hedgeFloorMs: values.HEDGE_FLOOR_MS,
    trustProxy: values.TRUST_PROXY,
    allowPrivateUpstreams: values.ALLOW_PRIVATE_UPSTREAMS,
    logLevel: values.LOG_LEVEL,
    sources: values.SOURCES?.length ? values.SOURCES : undefined,
    tiktokCookiesFile: values.TIKTOK_COOKIES,
    tiktokSessions: values.TIKTOK_SESSIONS,
    tiktokSessionMaxAgeSeconds: values.TIKTOK_SESSION_MAX_AGE,
    proxies,
    proxyRestMs: values.PROXY_REST_MS,
    requestTimeoutMs: values.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: Math.min(values.HEADERS_TIMEOUT_MS, values.REQUEST_TIMEOUT_MS),
    keepAliveTimeoutMs: values.KEEP_ALIVE_TIMEOUT_MS,
    maxConnectionsPerClient: values.MAX_CONNECTIONS_PER_CLIENT,
    maxEventLoopDelayMs: values.MAX_EVENT_LOOP_DELAY_MS,
    apiKeysFile: values.API_KEYS_FILE,
    apiAuthRequired: values.API_AUTH_REQUIRED,
    corsOrigins: values.CORS_ORIGINS,
    storedLinks: values.STORED_LINKS,
    batchMax: values.BATCH_MAX,
    maxHeapUsedMb: values.MAX_HEAP_USED_MB,
    upstreams,
  };
}
