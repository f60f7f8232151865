import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import ipaddr from "ipaddr.js";
import type { BaseLogger } from "pino";
import { z } from "zod";
import { ApiError } from "../domain/errors.js";
import { watchedFile } from "../net/watched-file.js";
import { ConfigError } from "./config.js";

/** What a valid key grants: its name (logged instead of the key), its limit and its sources. */
export interface KeyGrant {
  /** The key's name, or the first 8 hex digits of its SHA-256 when it has none. */
  name: string;
  /** An opaque, stable id for counters (a digest of the key, never the key). */
  id: string;
  /** Requests a minute, or unlimited; absent, the server's RATE_LIMIT. */
  limit?: number | "unlimited";
  /** The sources this key may use; absent, all. */
  sources?: readonly string[];
  /**
   * The key may read what TikTok serves only because of the operator's login (`TIKTOK_COOKIES`): a
   * private account the login may see, a user's private tabs. Off unless the keys file says so.
   */
  readsViaLogin?: boolean;
  /** How many watches the key may keep (the keys file's `watches`); absent, none. */
  watches?: number;
}

interface KeyEntry extends KeyGrant {
  digest: Buffer;
  ranges?: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  userAgents?: string[];
}

const Address = z.string().refine(
  (value) => {
    try {
      if (value.includes("/")) ipaddr.parseCIDR(value);
      else ipaddr.parse(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: "expected an address or a CIDR range" },
);

/** cobalt's keys file: an object keyed by the key (a UUID, or any string of 32+ characters). */
const KeyFile = z.record(
  z.string().refine((key) => z.uuid().safeParse(key).success || key.length >= 32, {
    message: "a key must be a UUID or at least 32 characters",
  }),
  z
    .object({
      name: z.string().min(1).max(100).optional(),
      limit: z.union([z.number().int().positive(), z.literal("unlimited")]).optional(),
      ips: z.array(Address).optional(),
      sources: z.union([z.literal("all"), z.array(z.string().min(1))]).optional(),
      // cobalt's own fields, so its keys files work as they are: `*` globs on the User-Agent, and the
      // services a key may use (this service is "tiktok").
      userAgents: z.array(z.string().min(1).max(200)).optional(),
      allowedServices: z.union([z.literal("all"), z.array(z.string().min(1))]).optional(),
      privateTabs: z.boolean().optional(),
      watches: z.number().int().min(0).max(1_000_000).optional(),
    })
    .strict(),
);

const sha256 = (text: string) => createHash("sha256").update(text).digest();

const feedSignature = (digest: Buffer, parameters: string) =>
  createHmac("sha256", digest)
    .update(`tiktok-dl feed\0${parameters}`)
    .digest()
    .subarray(0, 16)
    .toString("base64url");

const grantOf = (key: KeyEntry): KeyGrant => ({
  name: key.name,
  id: key.id,
  limit: key.limit,
  sources: key.sources,
  ...(key.readsViaLogin ? { readsViaLogin: true } : {}),
  ...(key.watches ? { watches: key.watches } : {}),
});

/** Parses a keys file; a bad file throws with the reason (the caller keeps the last good one). */
export function parseKeyFile(text: string, knownSources: readonly string[]): KeyEntry[] {
  const parsed = KeyFile.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(
      parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
    );
  return Object.entries(parsed.data).map(([key, grant]) => {
    const digest = sha256(key);
    const tiktokAllowed =
      grant.allowedServices === undefined ||
      grant.allowedServices === "all" ||
      grant.allowedServices.includes("tiktok");
    const sources = !tiktokAllowed ? [] : grant.sources === "all" ? undefined : grant.sources;
    const unknown = sources?.filter((name) => !knownSources.includes(name)) ?? [];
    const id = digest.toString("hex").slice(0, 16);
    const name = grant.name ?? id.slice(0, 8);
    if (unknown.length > 0) throw new Error(`key "${name}": unknown source(s) ${unknown.join(", ")}`);
    return {
      name,
      id,
      digest,
      limit: grant.limit,
      sources,
      ...(grant.privateTabs ? { readsViaLogin: true } : {}),
      ...(grant.watches ? { watches: grant.watches } : {}),
      ranges: grant.ips?.map((entry) =>
        entry.includes("/") ? ipaddr.parseCIDR(entry) : cidrOfAddress(ipaddr.parse(entry)),
      ),
      userAgents: grant.userAgents,
    };
  });
}

/**
 * Whether `text` matches a `*` glob (every other character literal, any case), in O(length × length):
 * the greedy two-pointer match, which never backtracks exponentially the way a regular expression of
 * several `.*` can on a long User-Agent.
 */
export function globMatches(glob: string, text: string): boolean {
  const pattern = glob.toLowerCase();
  const subject = text.toLowerCase();
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < subject.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === subject[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

const cidrOfAddress = (address: ipaddr.IPv4 | ipaddr.IPv6): [ipaddr.IPv4 | ipaddr.IPv6, number] => [
  address,
  address.kind() === "ipv4" ? 32 : 128,
];

/** Whether `ip` falls in one of the ranges (an IPv4-mapped IPv6 address counts as its IPv4 one). */
function inRanges(ip: string, ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][]): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip);
  } catch {
    return false;
  }
  return ranges.some(
    ([base, bits]) => base.kind() === address.kind() && address.match([base, bits] as never),
  );
}

/**
 * The operator's API keys (`API_KEYS_FILE`), read again when the file changes. `check` finds the key a
 * request presents, comparing digests in constant time against every key, and enforces its addresses.
 */
export function createApiKeys(options: {
  path: string;
  knownSources: readonly string[];
  now: () => number;
  log: BaseLogger;
}) {
  const file = watchedFile<KeyEntry[]>({
    path: options.path,
    label: "API keys file",
    parse: (text) => parseKeyFile(text, options.knownSources),
    initial: [],
    describe: (keys) => ({ keys: keys.map((key) => key.name) }),
    now: options.now,
    log: options.log,
  });

  return {
    /** Loads the file at start: a bad one stops the service with the reason. */
    async ready() {
      try {
        await file.load();
      } catch (error) {
        throw new ConfigError(`API_KEYS_FILE: ${(error as Error).message}`);
      }
    },
    /**
     * A feed link's signature (RSSHub's access code): an HMAC of the feed's own parameters keyed by the
     * key's digest, so the link carries the key's id and never the key; it dies with the key.
     */
    async signFeed(keyId: string, parameters: string): Promise<string> {
      const key = (await file.current()).find((entry) => entry.id === keyId);
      if (!key) throw new ApiError(401, "INVALID_API_KEY", "This API key is not valid.");
      return feedSignature(key.digest, parameters);
    },
    /**
     * The grant of a signed feed link: its key must still be there, unchanged, and used as the key itself
     * may be (its `ips` and `userAgents`).
     */
    async checkFeed(
      keyId: string,
      parameters: string,
      signature: string,
      ip: string,
      userAgent = "",
    ): Promise<KeyGrant> {
      const key = (await file.current()).find((entry) => entry.id === keyId);
      const expected = key ? Buffer.from(feedSignature(key.digest, parameters)) : undefined;
      const given = Buffer.from(signature);
      if (!key || !expected || expected.length !== given.length || !timingSafeEqual(expected, given))
        throw new ApiError(
          401,
          "INVALID_API_KEY",
          "This feed link is not valid (its key was removed or changed?).",
        );
      return admitted(key, ip, userAgent);
    },
    /** The grant of a presented key; 401 when no key matches, 403 from an address or client it does not allow. */
    async check(presented: string, ip: string, userAgent = ""): Promise<KeyGrant> {
      const digest = sha256(presented);
      let found: KeyEntry | undefined;
      for (const key of await file.current()) if (timingSafeEqual(key.digest, digest)) found = key;
      if (!found) throw new ApiError(401, "INVALID_API_KEY", "This API key is not valid.");
      return admitted(found, ip, userAgent);
    },
  };
}

/** A key's grant when it is used as it allows: from its `ips`, by its `userAgents`; otherwise a 403. */
function admitted(key: KeyEntry, ip: string, userAgent: string): KeyGrant {
  if (key.ranges && !inRanges(ip, key.ranges))
    throw new ApiError(403, "API_KEY_IP_FORBIDDEN", "This API key may not be used from this address.");
  if (key.userAgents && !key.userAgents.some((glob) => globMatches(glob, userAgent.slice(0, 1024))))
    throw new ApiError(403, "API_KEY_USER_AGENT_FORBIDDEN", "This API key may not be used from this client.");
  return grantOf(key);
}

export type ApiKeys = ReturnType<typeof createApiKeys>;
