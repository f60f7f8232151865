import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import { globMatches } from "../src/service/api-keys.js";
import { PROVIDERS } from "../src/sources/registry.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { delay, type Stack, startStack } from "./helpers.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const PHOTO = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;
const DELETED = `https://www.tiktok.com/@gone/video/${SAMPLE_IDS.deleted}`;

const KEYS = {
  limited: randomUUID(),
  unlimited: randomUUID(),
  elsewhere: randomUUID(),
  local: randomUUID(),
  nativeOnly: `${randomBytes(24).toString("hex")}`,
  cobaltBot: randomUUID(),
  youtubeOnly: randomUUID(),
};
const KEY_FILE = {
  [KEYS.limited]: { name: "bot-limited", limit: 2 },
  [KEYS.unlimited]: { name: "archive", limit: "unlimited" },
  [KEYS.elsewhere]: { name: "office", ips: ["10.0.0.0/8", "2001:db8::/32"] },
  [KEYS.local]: { name: "this-host", ips: ["127.0.0.1"] },
  [KEYS.nativeOnly]: { name: "native-only", sources: ["native"] },
  // cobalt's own fields work as they are.
  [KEYS.cobaltBot]: { name: "cobalt-bot", limit: 10, userAgents: ["*tiktok-bot*"], allowedServices: "all" },
  [KEYS.youtubeOnly]: { name: "youtube-only", allowedServices: ["youtube"] },
};

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), "tiktok-dl-keys-"));
});
after(() => rm(folder, { recursive: true, force: true }));

async function keysFile(content: unknown, name = "keys.json") {
  const path = join(folder, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const withKey = (key: string) => ({ authorization: `Api-Key ${key}` });
const get = (stack: Stack, url: string, headers: Record<string, string> = {}) =>
  stack.app.inject({ url: `/api/download?url=${encodeURIComponent(url)}`, headers });

describe("API keys", () => {
  let stack: Stack;
  const logged: string[] = [];
  before(async () => {
    stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", RATE_LIMIT: "3", API_KEYS_FILE: await keysFile(KEY_FILE) },
      deps: {
        // tikwm is known but never reached: only the native-only key names it, and is refused.
        sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "tikwm")],
        logger: { level: "info" },
        logStream: { write: (line: string) => logged.push(line) },
      },
    });
  });
  after(() => stack.close());

  it("are optional: without one a client is anonymous under RATE_LIMIT; a key gets its own limit", async () => {
    for (let i = 0; i < 2; i++)
      assert.equal((await get(stack, VIDEO, withKey(KEYS.limited))).statusCode, 200);
    const over = await get(stack, VIDEO, withKey(KEYS.limited));
    assert.equal(over.statusCode, 429);
    assert.equal(over.json().code, "RATE_LIMITED");
    // The address's own budget (3) is untouched by the key's requests.
    for (let i = 0; i < 3; i++) assert.equal((await get(stack, VIDEO)).statusCode, 200);
    assert.equal((await get(stack, VIDEO)).statusCode, 429);
    // "unlimited" is never counted.
    for (let i = 0; i < 5; i++)
      assert.equal((await get(stack, VIDEO, withKey(KEYS.unlimited))).statusCode, 200);
  });

  it("an unknown or malformed key is a 401 INVALID_API_KEY", async () => {
    for (const header of [`Api-Key ${randomUUID()}`, "Bearer something", "Api-Key"]) {
      const refused = await get(stack, VIDEO, { authorization: header });
      assert.equal(refused.statusCode, 401, header);
      assert.deepEqual(refused.json(), {
        error: refused.json().error,
        code: "INVALID_API_KEY",
      });
    }
  });

  it("a key used outside its ips is a 403 API_KEY_IP_FORBIDDEN; inside them it works", async () => {
    const refused = await get(stack, VIDEO, withKey(KEYS.elsewhere));
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, "API_KEY_IP_FORBIDDEN");
    assert.equal((await get(stack, VIDEO, withKey(KEYS.local))).statusCode, 200);
  });

  it("a key limited to some sources may not name another (403), and 'random' stays within them", async () => {
    const named = await stack.app.inject({
      url: `/api/download?url=${encodeURIComponent(VIDEO)}&type=tikwm`,
      headers: withKey(KEYS.nativeOnly),
    });
    assert.equal(named.statusCode, 403);
    assert.equal(named.json().code, "API_KEY_SOURCE_FORBIDDEN");
    const random = await get(stack, PHOTO, withKey(KEYS.nativeOnly));
    assert.equal(random.statusCode, 200);
    assert.equal(random.json().result.provider, "native");
  });

  it("a cobalt keys file works as it is: userAgents globs and allowedServices", async () => {
    const bot = await get(stack, VIDEO, { ...withKey(KEYS.cobaltBot), "user-agent": "My-TikTok-Bot/2.1" });
    assert.equal(bot.statusCode, 200);
    const other = await get(stack, VIDEO, { ...withKey(KEYS.cobaltBot), "user-agent": "curl/8.5.0" });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().code, "API_KEY_USER_AGENT_FORBIDDEN");
    const youtube = await get(stack, VIDEO, withKey(KEYS.youtubeOnly));
    assert.equal(youtube.statusCode, 403);
    assert.equal(youtube.json().code, "API_KEY_SOURCE_FORBIDDEN");
  });

  it("logs the key's name, never the key", async () => {
    await get(stack, VIDEO, withKey(KEYS.local));
    const text = logged.join("");
    assert.match(text, /"key":"this-host"/);
    for (const key of Object.values(KEYS)) assert.ok(!text.includes(key), "a key reached the log");
  });

  it("tunnel links of a keyed request need no key", async () => {
    const { result } = (await get(stack, VIDEO, withKey(KEYS.unlimited))).json();
    const file = await stack.app.inject({ url: result.stream.music });
    assert.equal(file.statusCode, 200);
  });
});

describe("API_AUTH_REQUIRED and the keys file's reload", () => {
  it("refuses requests without a key (401 AUTH_REQUIRED); a changed file is read again, a broken one ignored", async () => {
    const path = await keysFile({ [KEYS.limited]: { name: "first" } }, "reload.json");
    const logged: string[] = [];
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", API_KEYS_FILE: path, API_AUTH_REQUIRED: "1" },
      deps: { logger: { level: "info" }, logStream: { write: (line: string) => logged.push(line) } },
    });
    try {
      const anonymous = await get(stack, VIDEO);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.json().code, "AUTH_REQUIRED");
      assert.equal((await get(stack, VIDEO, withKey(KEYS.limited))).statusCode, 200);
      assert.equal((await get(stack, VIDEO, withKey(KEYS.unlimited))).statusCode, 401);
      // Meta endpoints and the page stay open.
      assert.equal((await stack.app.inject({ url: "/api/ping" })).statusCode, 200);

      await delay(1_100);
      await writeFile(path, JSON.stringify({ [KEYS.unlimited]: { name: "second" } }));
      await delay(1_100);
      assert.equal((await get(stack, VIDEO, withKey(KEYS.unlimited))).statusCode, 200);
      assert.equal((await get(stack, VIDEO, withKey(KEYS.limited))).statusCode, 401, "the removed key");

      await writeFile(path, "{ not json");
      await delay(1_100);
      assert.equal((await get(stack, VIDEO, withKey(KEYS.unlimited))).statusCode, 200, "the last good file");
      const warning = logged.find((line) => line.includes("API keys file unusable"));
      assert.match(warning ?? "", /JSON/, "the log says why");
      assert.match(logged.join(""), /"keys":\["second"\]/, "the reload is logged by key name");
      for (const key of Object.values(KEYS))
        assert.ok(!logged.join("").includes(key), "a key reached the log");
    } finally {
      await stack.close();
    }
  });

  it("a keys file with an unknown source or a short key does not start the server", async () => {
    for (const content of [{ [KEYS.limited]: { sources: ["nope"] } }, { short: {} }]) {
      await assert.rejects(
        startStack({ env: { API_KEYS_FILE: await keysFile(content, "bad.json"), API_AUTH_REQUIRED: "1" } }),
      );
    }
  });
});

const redisUp = await redisAnswers(REDIS_URL);
describe("a key's limit across instances", { skip: redisUp ? false : `no Redis at ${REDIS_URL}` }, () => {
  it("is counted in Redis, shared by every instance", async () => {
    const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
    const path = await keysFile({ [KEYS.limited]: { name: "shared", limit: 3 } }, "shared.json");
    const env = { ALLOW_PRIVATE_UPSTREAMS: "1", API_KEYS_FILE: path, REDIS_URL, REDIS_PREFIX: prefix };
    const a = await startStack({ fake: { waf: false }, env });
    const b = await startStack({ fake: { waf: false }, env });
    try {
      assert.equal((await get(a, VIDEO, withKey(KEYS.limited))).statusCode, 200);
      assert.equal((await get(b, VIDEO, withKey(KEYS.limited))).statusCode, 200);
      assert.equal((await get(a, VIDEO, withKey(KEYS.limited))).statusCode, 200);
      const over = await get(b, VIDEO, withKey(KEYS.limited));
      assert.equal(over.statusCode, 429);
      assert.ok(Number(over.headers["retry-after"]) > 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

describe("CORS", () => {
  it("answers the preflight, allows Authorization, and follows CORS_ORIGINS", async () => {
    const open = await startStack();
    const listed = await startStack({ env: { CORS_ORIGINS: "https://a.example, https://b.example" } });
    try {
      const preflight = (stack: Stack, origin: string) =>
        stack.app.inject({
          method: "OPTIONS",
          url: "/api/download",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
          },
        });
      const any = await preflight(open, "https://anywhere.example");
      assert.equal(any.statusCode, 204);
      assert.equal(any.headers["access-control-allow-origin"], "*");
      assert.match(String(any.headers["access-control-allow-headers"]), /authorization/i);
      assert.match(String(any.headers["access-control-allow-methods"]), /POST/);
      const simple = await open.app.inject({ url: "/api/ping", headers: { origin: "https://x.example" } });
      assert.equal(simple.headers["access-control-allow-origin"], "*");
      assert.match(String(simple.headers["access-control-expose-headers"]), /X-RateLimit-Remaining/);
      assert.equal(simple.headers.vary, undefined, "one answer for every origin");

      const allowed = await preflight(listed, "https://b.example");
      assert.equal(allowed.headers["access-control-allow-origin"], "https://b.example");
      assert.equal(allowed.headers["access-control-max-age"], "86400");
      const other = await preflight(listed, "https://c.example");
      assert.equal(other.headers["access-control-allow-origin"], undefined);
      const listedSimple = await listed.app.inject({
        url: "/api/ping",
        headers: { origin: "https://a.example" },
      });
      assert.equal(listedSimple.headers["access-control-allow-origin"], "https://a.example");
      assert.equal(listedSimple.headers.vary, "Origin", "caches keep one answer per origin");
    } finally {
      await Promise.all([open.close(), listed.close()]);
    }
  });
});

describe("STORED_LINKS", () => {
  it("public (v1), keys (only with a valid key) or off (404 in the JSON shape)", async () => {
    const path = await keysFile({ [KEYS.local]: { name: "reader" } }, "stored.json");
    const modes = ["public", "keys", "off"] as const;
    const stacks = await Promise.all(
      modes.map((mode) =>
        startStack({
          fake: { waf: false },
          env: { ALLOW_PRIVATE_UPSTREAMS: "1", STORED_LINKS: mode, API_KEYS_FILE: path },
        }),
      ),
    );
    try {
      const [open, keyed, off] = stacks as [Stack, Stack, Stack];
      for (const stack of stacks) await get(stack, VIDEO);
      const list = await open.app.inject({ url: "/api/stored-links" });
      assert.deepEqual(list.json(), [VIDEO]);
      const anonymous = await keyed.app.inject({ url: "/api/stored-links" });
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.json().code, "AUTH_REQUIRED");
      const withValidKey = await keyed.app.inject({ url: "/api/stored-links", headers: withKey(KEYS.local) });
      assert.deepEqual(withValidKey.json(), [VIDEO]);
      const gone = await off.app.inject({ url: "/api/stored-links", headers: withKey(KEYS.local) });
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.json().code, "ROUTE_NOT_FOUND");
    } finally {
      await Promise.all(stacks.map((stack) => stack.close()));
    }
  });
});

describe("POST /api/download/batch", () => {
  it("answers in order; a bad link fails its own row", async () => {
    const stack = await startStack({ fake: { waf: false }, env: { ALLOW_PRIVATE_UPSTREAMS: "1" } });
    try {
      const urls = [VIDEO, "https://example.com/video/1", PHOTO, DELETED, VIDEO];
      const response = await stack.app.inject({
        method: "POST",
        url: "/api/download/batch",
        payload: { urls },
      });
      assert.equal(response.statusCode, 200);
      const { results } = response.json() as { results: Record<string, any>[] };
      assert.deepEqual(
        results.map((row) => row.url),
        urls,
      );
      assert.equal(results[0]?.result.id, SAMPLE_IDS.video);
      assert.equal(results[1]?.code, "UNSUPPORTED_HOST");
      assert.equal(results[1]?.status, 400);
      assert.equal(results[2]?.result.type, "photo");
      assert.equal(results[3]?.code, "NOT_FOUND");
      assert.equal(results[3]?.status, 404);
      assert.equal(results[4]?.result.id, SAMPLE_IDS.video);
      assert.equal(stack.fake.pageRequests(SAMPLE_IDS.video), 1, "the same post twice is extracted once");

      // Twelve links with tracking junk are more than one download's 16 KiB body, and a valid batch.
      const junk = `${VIDEO}?${"is_from_webapp=1&sender_device=pc&".repeat(55)}`;
      const long = await stack.app.inject({
        method: "POST",
        url: "/api/download/batch",
        payload: { urls: Array(12).fill(junk) },
      });
      assert.ok(long.body.length > 0 && JSON.stringify({ urls: Array(12).fill(junk) }).length > 16 * 1024);
      assert.equal(long.statusCode, 200, long.body.slice(0, 200));
    } finally {
      await stack.close();
    }
  });

  it("counts each link against the rate limit, refuses more than BATCH_MAX, and validates its body", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", RATE_LIMIT: "3", BATCH_MAX: "4" },
    });
    try {
      const batch = (payload: unknown) =>
        stack.app.inject({ method: "POST", url: "/api/download/batch", payload: payload as object });
      const junk = `${VIDEO}?${"is_from_webapp=1&sender_device=pc&".repeat(55)}`;
      const long = await batch({ urls: [junk, junk], nocache: false });
      assert.equal(long.statusCode, 200, long.body);
      const tooMany = await batch({ urls: [VIDEO, VIDEO, VIDEO, VIDEO, VIDEO] });
      assert.equal(tooMany.statusCode, 400);
      assert.equal(tooMany.json().code, "INVALID_PARAMETER");
      for (const bad of [{}, { urls: [] }, { urls: "x" }, { urls: [1] }])
        assert.equal((await batch(bad)).statusCode, 400, JSON.stringify(bad));
      const counted = await batch({ urls: [VIDEO, PHOTO] });
      const { results } = counted.json() as { results: Record<string, any>[] };
      assert.deepEqual(
        results.map((row) => row.status ?? 200),
        [200, 429],
        "the third link spent the budget of three",
      );
      assert.ok(Number(counted.headers["retry-after"]) > 0);
      assert.equal((await get(stack, VIDEO)).statusCode, 429, "the batch spent the budget");
      const refused = await batch({ urls: [VIDEO] });
      assert.equal(refused.statusCode, 429, "nothing left: the whole batch is refused");
      assert.equal(refused.json().code, "RATE_LIMITED");
    } finally {
      await stack.close();
    }
  });

  it("is in the OpenAPI document, with the Authorization header", async () => {
    const stack = await startStack();
    try {
      const document = (await stack.app.inject({ url: "/openapi.json" })).json();
      assert.ok(document.paths["/api/download/batch"]?.post);
      assert.equal(document.components.securitySchemes.apiKey.name, "Authorization");
      for (const [path, method] of [
        ["/api/download", "get"],
        ["/api/download", "post"],
        ["/api/download/batch", "post"],
      ] as const) {
        const header = document.paths[path][method].parameters?.find(
          (parameter: { in: string; name: string }) => parameter.in === "header",
        );
        assert.equal(header?.name, "authorization", `${method} ${path}`);
      }
    } finally {
      await stack.close();
    }
  });
});

describe("User-Agent globs", () => {
  it("match like the equivalent regular expression, on any input", () => {
    const reference = (glob: string, text: string) =>
      new RegExp(
        `^${glob
          .split("*")
          .map((part) => part.replace(/[.]/g, "\\."))
          .join(".*")}$`,
        "i",
      ).test(text);
    fc.assert(
      fc.property(
        fc.stringMatching(/^[ab.*]{0,8}$/),
        fc.stringMatching(/^[abAB.]{0,12}$/),
        (glob, text) => globMatches(glob, text) === reference(glob, text),
      ),
      { numRuns: 2_000 },
    );
  });
});
