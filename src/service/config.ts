import { isIP } from "node:net";
import { parseEnv } from "node:util";
import { z } from "zod";
import { readLocalFile, readLocalFileSync, SETTINGS_FILE_MAX_BYTES } from "../domain/local-files.js";
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
  HOST: z
    .string()
    .trim()
    .regex(/^(\[[0-9a-f:.]+(%[\w.-]+)?\]|[0-9a-z.:_-]+(%[\w.-]+)?)$/i, {
      message: "expected a host name or an IP address to listen on",
    })
    .default("127.0.0.1"),
  REDIS_URL: z
    .string()
    .trim()
    .refine((value) => value === "" || (/^rediss?:\/\//i.test(value) && URL.canParse(value)), {
      message: "expected a redis:// or rediss:// URL",
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
  PICTURES_MAX_PER_CLIENT: integer(1, 100_000).default(24),
  STREAM_RATE_LIMIT: integer(0, 1_000_000).default(600),
  STREAM_MAX_BYTES: integer(1024, 64 * 1024 ** 3).default(2 * 1024 ** 3),
  STREAM_STALL_MS: integer(1_000, 3_600_000).default(60_000),
  STREAM_MIN_RATE: integer(0, 1024 ** 3).default(8 * 1024),
  CIRCUIT_FAILURES: integer(1, 1000).default(3),
  CIRCUIT_COOLDOWN_MS: integer(100, 3_600_000).default(30_000),
  HEDGE_FLOOR_MS: integer(50, 120_000).default(1_500),
  TRUST_PROXY: trustProxy.default(false),
  PUBLIC_URL: httpBase
    .refine((value) => !/[?#]/.test(value), { message: "expected an origin, with a path at most" })
    .transform((value) => value.replace(/\/+$/, ""))
    .optional(),
  ALLOWED_HOSTS: z
    .string()
    .trim()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine(
      (hosts) => hosts.every((host) => /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(host)),
      {
        message: "expected comma-separated host names, with a port where it is not the default",
      },
    ),
  FEED_CACHE_MB: integer(1, 4096).default(32),
  DATA_DIR: z.string().trim().min(1).default("./data"),
  WATCH_MIN_INTERVAL: integer(1, 7 * 86_400).default(300),
  WATCHES_MAX: integer(0, 10_000_000).default(100),
  WATCH_PAUSE_AFTER: integer(1, 365 * 86_400).default(3 * 86_400),
  WATCH_RETRY_DELAYS: z
    .string()
    .trim()
    .default("5,300,1800,7200,18000,36000,36000")
    .transform((value) => value.split(",").map((part) => Number(part.trim())))
    .refine(
      (delays) =>
        delays.length >= 1 &&
        delays.length <= 20 &&
        delays.every((s) => Number.isInteger(s) && s >= 0 && s <= 7 * 86_400),
      {
        message: "expected up to 20 comma-separated whole numbers of seconds",
      },
    ),
  ALLOW_PRIVATE_TARGETS: flag.default(false),
  RATE_LIMIT_IPV6_SITE: integer(1, 65_536).default(8),
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
    .transform((value): "*" | string[] =>
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

/** The service's settings, as `loadConfig` reads them from the environment. */
export type Config = ReturnType<typeof toConfig>;

/** A setting's variable name (`CACHE_TTL`). */
export type SettingName = keyof typeof schema.shape;

/** The schema of the settings (docs/configuration.md is rendered from it and from SETTING_DOCS). */
export const SETTINGS_SCHEMA = schema;

/** The single-valued variables the configuration reads (the library checks its options against them). */
export const SETTING_NAMES: ReadonlySet<string> = new Set([...Object.keys(schema.shape), "PROXY_URL"]);

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
  try {
    return parseEnv(readLocalFileSync(path, SETTINGS_FILE_MAX_BYTES)) as Record<string, string>;
  } catch (error) {
    throw envFileError(error);
  }
}

/** The same, read off the event loop (the file is read again while serving when it changes). */
export async function readEnvFileAsync(path: string): Promise<Record<string, string>> {
  try {
    return parseEnv(await readLocalFile(path, SETTINGS_FILE_MAX_BYTES)) as Record<string, string>;
  } catch (error) {
    throw envFileError(error);
  }
}

const envFileError = (error: unknown) =>
  new ConfigError(`ENV_FILE: ${error instanceof Error ? error.message : String(error)}`);

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

  return toConfig(parsed.data, { redis, upstreams, proxies });
}

/** The settings as the service reads them (camelCase, units in the names); `Config` is its type. */
function toConfig(
  values: z.infer<typeof schema>,
  read: { redis?: RedisTarget; upstreams: Record<string, string>; proxies: Record<string, string[]> },
) {
  const { redis, upstreams, proxies } = read;
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
    picturesMaxPerClient: values.PICTURES_MAX_PER_CLIENT,
    streamRateLimit: values.STREAM_RATE_LIMIT,
    streamMaxBytes: values.STREAM_MAX_BYTES,
    streamStallMs: values.STREAM_STALL_MS,
    streamMinRate: values.STREAM_MIN_RATE,
    circuitFailures: values.CIRCUIT_FAILURES,
    circuitCooldownMs: values.CIRCUIT_COOLDOWN_MS,
    hedgeFloorMs: values.HEDGE_FLOOR_MS,
    trustProxy: values.TRUST_PROXY,
    publicUrl: values.PUBLIC_URL,
    allowedHosts: values.ALLOWED_HOSTS,
    feedCacheBytes: values.FEED_CACHE_MB * 1024 ** 2,
    dataDir: values.DATA_DIR,
    watches: {
      minIntervalS: values.WATCH_MIN_INTERVAL,
      maxPerInstance: values.WATCHES_MAX,
      pauseAfterS: values.WATCH_PAUSE_AFTER,
      retryDelaysS: values.WATCH_RETRY_DELAYS,
    },
    allowPrivateTargets: values.ALLOW_PRIVATE_TARGETS,
    ipv6SiteBudgets: values.RATE_LIMIT_IPV6_SITE,
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

/**
 * What each setting means, for docs/configuration.md (`npm run docs:config` renders the table). Its
 * default is read from the schema; `shown` says it in words where the schema has none.
 */
export const SETTING_DOCS: { readonly [K in SettingName]: { meaning: string; shown?: string } } = {
  PORT: { meaning: "Port to listen on" },
  HOST: { meaning: "Address to listen on (`0.0.0.0` to expose it)" },
  REDIS_URL: {
    meaning:
      "`redis://…` or `rediss://…`: cache, stored-links index, rate-limit counters, source health and in-flight claims live in Redis, shared by every instance. Unset: in memory",
  },
  REDIS_CLUSTER_NODES: {
    meaning:
      "A Redis Cluster instead: its seed nodes, `host:port,host:port,…` (every key of one operation shares a slot)",
  },
  REDIS_SENTINELS: {
    meaning:
      "Redis behind Sentinel instead: the Sentinels, `host:port,…`; the master is the one they name `REDIS_SENTINEL_NAME`",
  },
  REDIS_SENTINEL_NAME: { meaning: "The master's name in Sentinel" },
  REDIS_PASSWORD: {
    meaning: "The password of the Cluster's nodes or of the Sentinel's master (`REDIS_URL` carries its own)",
  },
  REDIS_PREFIX: { meaning: "Prefix of every Redis key" },
  CACHE_TTL: {
    meaning: "Seconds an answer stays cached (never past the media URLs' own expiry, minus 5 minutes)",
  },
  CACHE_MAX_ENTRIES: {
    meaning: "Entries of the in-memory cache (least recently used go first); with Redis, of the near tier",
  },
  CACHE_LOCAL_TTL: {
    meaning:
      "With Redis: seconds an instance answers a post from its own memory before reading Redis again (never past the entry's own end); a `nocache` refresh on another instance reaches it within this time. `0`: every hit reads Redis",
  },
  NEGATIVE_CACHE_TTL: {
    meaning:
      'Seconds TikTok\'s "not found / private / age-restricted" verdicts are remembered; `0` turns it off',
  },
  LIST_CACHE_TTL: {
    meaning: "Seconds a page of a profile, collection or playlist is cached (0: not cached)",
  },
  MAX_ATTEMPTS: { meaning: "Sources tried per request at most" },
  UPSTREAM_TIMEOUT_MS: {
    meaning: "Timeout of each upstream request (a whole extraction gets three times this)",
  },
  UPSTREAM_MAX_BYTES: { meaning: "Largest upstream answer read" },
  RATE_LIMIT: { meaning: "Requests a minute per client on `/api/download`; `0` turns it off" },
  STREAM_SECRET: {
    meaning:
      "Key material (16+ characters) for tunnel tokens. Unset: a random per-process key (a warning is logged): set it when several instances serve the same links",
    shown: "random",
  },
  STREAM_TTL: { meaning: "Seconds a tunnel link stays valid" },
  STREAM_MAX_CONCURRENT: { meaning: "Tunnels running at once; more get 503" },
  STREAM_MAX_PER_CLIENT: {
    meaning:
      "Tunnels one client address may run at once; more get 429 with `Retry-After`, so one client cannot hold every slot",
  },
  PICTURES_MAX_PER_CLIENT: {
    meaning:
      "Pictures of a listing (covers, avatars) one client may be relayed at once: a page's grid loads many together, and they are not downloads (`STREAM_MAX_PER_CLIENT` does not count them)",
  },
  STREAM_RATE_LIMIT: {
    meaning: "Tunnel requests a minute per client (players seek with many range requests); `0` turns it off",
  },
  STREAM_MAX_BYTES: {
    meaning: "The largest file the tunnel relays (refused when declared larger, cut when it runs over)",
  },
  STREAM_STALL_MS: {
    meaning: "A tunnel through which no byte passed for this long is cut (its client stopped reading)",
  },
  STREAM_MIN_RATE: {
    meaning:
      "Bytes a second a tunnel's client must read, judged over the last minute while it holds the transfer back; slower is cut. `0`: no floor",
  },
  CIRCUIT_FAILURES: { meaning: "Consecutive failures that open a source's circuit (it is then skipped)" },
  CIRCUIT_COOLDOWN_MS: { meaning: "How long an open circuit rests before one request probes it" },
  HEDGE_FLOOR_MS: {
    meaning:
      "With `type=random`, a source slower than its recent p90 (never less than this) gets the next source started beside it; the first valid answer wins",
  },
  TRUST_PROXY: {
    meaning:
      "Client IPs come from the socket. Behind your own reverse proxy set `true` (trust all), a hop count, or a comma-separated list of proxy addresses/CIDRs to read `X-Forwarded-For`",
  },
  PUBLIC_URL: {
    meaning:
      "This instance's public address (`https://dl.example.com`, with a path if it is served under one): the base of every link in feeds and from `POST /api/feed-link`. Unset: the request's `Host` when it is in `ALLOWED_HOSTS`, or a loopback name asked from this machine; any other is refused (a shared cache must never keep links to a host a client made up)",
  },
  ALLOWED_HOSTS: {
    meaning:
      "Comma-separated `Host` values (`dl.example.com`, `192.168.1.5:3000`) feed links may be built on when `PUBLIC_URL` is unset",
  },
  DATA_DIR: {
    meaning:
      "Where data that must last is kept on one machine (watches and their pending deliveries, in `tiktok-dl.db`, SQLite); made at the first watch. With `REDIS_URL`, Redis keeps them instead (it must persist: `appendonly yes`)",
  },
  WATCH_MIN_INTERVAL: { meaning: "The shortest interval a watch may be checked at, in seconds" },
  WATCHES_MAX: {
    meaning:
      "Watches this instance keeps at most; without a keys file, only loopback clients may make them (a personal instance)",
  },
  WATCH_PAUSE_AFTER: {
    meaning:
      "Seconds a watched list may stay private, deleted or refused, or a target fail every delivery, before its watch is paused",
  },
  WATCH_RETRY_DELAYS: {
    meaning:
      "Seconds before each retry of a failed delivery (after the last, it fails); a `Retry-After` longer than the next delay is honoured",
  },
  ALLOW_PRIVATE_TARGETS: {
    meaning:
      "Lets watches deliver to private and loopback addresses, and over plain http (tests, a receiver on the same host); off by default",
  },
  FEED_CACHE_MB: {
    meaning: "Rendered feeds kept in memory, in MiB (each version of a page once per format and origin)",
  },
  RATE_LIMIT_IPV6_SITE: {
    meaning:
      "IPv6 clients count by their /64; a whole /48 may spend this many clients' budgets a minute together (one network cannot multiply its limit by using many /64s)",
  },
  ALLOW_PRIVATE_UPSTREAMS: {
    meaning:
      "Let upstream requests reach private or loopback addresses. Origins set below are always allowed",
  },
  TIKTOK_COOKIES: {
    meaning:
      "Path to a Netscape `cookies.txt` (what yt-dlp and browser extensions export): its live `.tiktok.com` cookies go with the native source's page requests, so a logged-in operator can serve login-only and age-restricted posts. Read again when the file changes; the cookies never appear in answers, links, logs or errors",
  },
  TIKTOK_SESSIONS: {
    meaning:
      "TikTok sessions (cookie jars that got past the WAF) the native source keeps per way out (direct, each proxy) and reuses; per instance, also with Redis",
  },
  TIKTOK_SESSION_MAX_AGE: {
    meaning:
      "Seconds a kept session is used before a new one replaces it (one that TikTok blocks is dropped at once)",
  },
  PROXY_REST_MS: { meaning: "How long a failed or blocked proxy rests" },
  REQUEST_TIMEOUT_MS: {
    meaning:
      "The whole request (headers and body) must arrive within this; a client that trickles its body is cut with a 408 (a slow phone sending 16 KiB passes)",
  },
  HEADERS_TIMEOUT_MS: { meaning: "The request headers must arrive within this" },
  KEEP_ALIVE_TIMEOUT_MS: { meaning: "An idle keep-alive connection is closed after this" },
  MAX_CONNECTIONS_PER_CLIENT: {
    meaning:
      "Open connections one client address may hold; more are closed at once. Behind your own reverse proxy every client shares its address: raise it or set `0` (no cap) there",
  },
  API_KEYS_FILE: {
    meaning:
      'A JSON file of API keys (docs/api.md, "API keys, CORS and stored links"); read again when it changes',
  },
  API_AUTH_REQUIRED: { meaning: "Refuse download requests without a valid key (needs `API_KEYS_FILE`)" },
  CORS_ORIGINS: { meaning: "Origins browsers may call the API from: `*` or a comma-separated list" },
  STORED_LINKS: {
    meaning: "`/api/stored-links` for everyone (`public`), key holders (`keys`) or no one (`off`)",
  },
  BATCH_MAX: { meaning: "Links one `POST /api/download/batch` may carry" },
  MAX_EVENT_LOOP_DELAY_MS: {
    meaning:
      "Load shedding: while the event loop lags more than this, requests get 503 `SERVICE_UNAVAILABLE` with `Retry-After` (`/api/ping`, `/api/health`, `/metrics` still answer). `0`: off",
  },
  MAX_HEAP_USED_MB: {
    meaning: "The same when the heap holds more than this. `0`: off",
    shown: "1024, or 75% of V8's heap limit when that is smaller",
  },
  SOURCES: {
    meaning:
      "Comma-separated source names this instance runs (for example `native`, or only providers). `/api/providers` lists every source with `enabled`; a disabled one is never contacted. Unknown names are refused at start",
    shown: "all",
  },
  LOG_LEVEL: {
    meaning: "`fatal` … `trace`, or `silent`. JSON logs, one line per request, no query strings or cookies",
  },
  ENV_FILE: {
    meaning:
      "A dotenv file whose variables are read under the environment's own at start; a change is checked and logged, and applied at the next restart",
  },
};

/** Families of variables named after a source or a pool, documented beside the settings. */
export const VARIABLE_FAMILIES: readonly { name: string; shown: string; meaning: string }[] = [
  {
    name: "UPSTREAM_TIKTOK",
    shown: "—",
    meaning:
      "Every request for a TikTok web or CDN host (`tiktok.com`, `tiktokv.com`, `tiktokcdn.com`, `tiktokcdn-us.com`, `tiktokcdn-eu.com` and their subdomains, short-link hosts included) goes to this origin instead, path and query kept; redirects to TikTok hosts are mapped the same way. For mirrors and tests",
  },
  {
    name: "UPSTREAM_DOUYIN",
    shown: "—",
    meaning:
      "Every request for a Douyin host (`douyin.com`, `iesdouyin.com`, `snssdk.com`, `douyinvod.com`, `douyinpic.com`, `douyinstatic.com`, `zjcdn.com` and their subdomains, short links included) goes to this origin instead, path and query kept, as `UPSTREAM_TIKTOK` does for TikTok's",
  },
  {
    name: "UPSTREAM_<NAME>",
    shown: "—",
    meaning:
      "The base URL of one source's site (table below). It may carry a path prefix (`http://mirror:9000/tikwm`): the source's paths are appended to it, and links the site gives relative to itself resolve against it. An unknown name is refused at start",
  },
  {
    name: "UPSTREAM_TELEGRAM",
    shown: "—",
    meaning:
      "Where watches send Telegram messages instead of `https://api.telegram.org` (a local Bot API server, or a test's fake): `bot<token>/sendMessage` is appended to it",
  },
  {
    name: "PROXY_URL",
    shown: "—",
    meaning:
      "Egress proxies for all upstream traffic: a comma-separated list of `http://`, `https://` or `socks5://` URLs (`user:password@` allowed, never logged or shown), used in turn",
  },
  {
    name: "PROXY_<NAME>",
    shown: "—",
    meaning:
      "The same for one upstream only (`PROXY_TIKTOK` for the native source, short links and TikTok's CDN; `PROXY_TIKWM`, …); it replaces `PROXY_URL` there. A post's files are relayed through the proxy its extraction used (TikTok binds media to the session). A proxy that fails to connect or gets blocked (403/429, a captcha) rests, and the native source tries the next one once; `/api/health` and `/metrics` (`tiktokdl_proxy_up`) show each proxy, without credentials",
  },
];
