import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { type FakeProfile, makePosts, makeProfile, postIdAt } from "./fakes/profiles.js";
import { FakeDiscord, FakeTelegram, FakeWebhookReceiver } from "./fakes/receivers.js";
import { delay, type Stack, startStack } from "./helpers.js";
import { startWatchStack, watchCreator } from "./support/watches.js";

const KEYS = { alice: "a".repeat(40), bob: "b".repeat(40), none: "n".repeat(40) };
const BOT_TOKEN = "123456789:AAEhBOweik9ai2o4-secret-bot-token-xyz";

/** Waits until `check` holds (at most `ms`), polling. */
async function until(check: () => boolean | Promise<boolean>, ms = 8_000, what = "the condition") {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await delay(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A post made now on a creator's profile (newest first), `ageS` seconds ago. */
function post(profile: FakeProfile, salt: number, ageS = 0) {
  const time = Math.floor(Date.now() / 1000) - ageS;
  const fresh = { id: postIdAt(time, salt), createTime: time, photo: false, caption: `fresh post ${salt}` };
  profile.posts.unshift(fresh);
  return fresh;
}

describe("watches", () => {
  let stack: Stack;
  let dir: string;
  let receiver: FakeWebhookReceiver;
  let discord: FakeDiscord;
  let telegram: FakeTelegram;
  const logs: string[] = [];
  const creators = {
    river: makeProfile("watch.river", makePosts(5, { salt: 12_000 })),
    fern: makeProfile("watch.fern", makePosts(3, { salt: 12_100 })),
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-watches-"));
    await writeFile(
      join(dir, "keys.json"),
      JSON.stringify({
        [KEYS.alice]: { name: "alice", watches: 4 },
        [KEYS.bob]: { name: "bob", watches: 8 },
        [KEYS.none]: { name: "none" },
      }),
    );
    receiver = await new FakeWebhookReceiver().start();
    discord = await new FakeDiscord().start();
    telegram = await new FakeTelegram(BOT_TOKEN).start();
    stack = await startStack({
      fake: { waf: false },
      env: {
        API_KEYS_FILE: join(dir, "keys.json"),
        DATA_DIR: dir,
        ALLOW_PRIVATE_UPSTREAMS: "1",
        ALLOW_PRIVATE_TARGETS: "1",
        WATCH_MIN_INTERVAL: "1",
        WATCH_RETRY_DELAYS: "0,0,0",
        UPSTREAM_TELEGRAM: telegram.url,
        PUBLIC_URL: "https://dl.example.com",
        LOG_LEVEL: "debug",
      },
      deps: {
        logger: {},
        logStream: new Writable({
          write(chunk, _encoding, done) {
            logs.push(String(chunk));
            done();
          },
        }),
      },
    });
    for (const profile of Object.values(creators)) stack.fake.profiles.set(profile.username, profile);
  });
  after(async () => {
    await stack.close();
    await Promise.all([receiver.close(), discord.close(), telegram.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const api = (method: "GET" | "POST" | "DELETE", url: string, key: string, payload?: unknown) =>
    stack.app.inject({
      method,
      url,
      headers: { authorization: `Api-Key ${key}` },
      ...(payload ? { payload } : {}),
    });
  const watch = async (key: string, body: Record<string, unknown>) => {
    const made = await api("POST", "/api/watches", key, { every: 1, ...body });
    assert.equal(made.statusCode, 201, made.body);
    const result = made.json().result as Record<string, any>;
    // The receiver knows every secret it was given (a test that wants otherwise sets them itself).
    receiver.secrets.push(result.secret);
    return result;
  };

  it("tells a webhook of each new post once, oldest first, signed, and of none that was there before", async () => {
    const made = await watch(KEYS.alice, {
      url: "https://www.tiktok.com/@watch.river",
      target: { type: "webhook", url: `${receiver.url}/hook` },
    });
    assert.match(made.secret, /^whsec_/);
    assert.deepEqual(made.target, { type: "webhook", url: `${receiver.url}/…` });
    receiver.secrets.push(made.secret);
    await delay(1_500);
    assert.equal(receiver.events("post.created").length, 0, "no event for what was there");

    const older = post(creators.river, 1, 30);
    const newer = post(creators.river, 2, 5);
    await until(() => receiver.events("post.created").length >= 2, 8_000, "two events");
    await delay(1_500);
    const events = receiver.events("post.created");
    assert.deepEqual(
      events.map((event) => event.json.data.post.id),
      [older.id, newer.id],
      "each once, oldest first",
    );
    const data = events[0]?.json.data;
    assert.equal(data.watch.id, made.id);
    assert.equal(data.post.url, `https://www.tiktok.com/@watch.river/video/${older.id}`);
    assert.match(data.post.files.video, /^https:\/\/dl\.example\.com\/api\/file\?url=/);
    assert.equal(events[0]?.headers["webhook-id"] !== events[1]?.headers["webhook-id"], true);
  });

  it("retries a 503 with the same webhook-id and delivers on the third attempt; a 400 fails at once", async () => {
    const made = await watch(KEYS.alice, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/retry` },
    });
    receiver.secrets.push(made.secret);
    receiver.script.push(503, 503, 200);
    const before = receiver.received.length;
    const fresh = post(creators.fern, 3);
    await until(async () => {
      const list = (await api("GET", `/api/watches/${made.id}/deliveries`, KEYS.alice)).json().result;
      return list.some((d: any) => d.postId === fresh.id && d.status === "delivered");
    });
    const attempts = receiver.received
      .slice(before)
      .filter((entry) => entry.json.data?.post?.id === fresh.id);
    assert.equal(attempts.length, 3);
    assert.equal(new Set(attempts.map((entry) => entry.headers["webhook-id"])).size, 1, "one webhook-id");
    const delivery = (await api("GET", `/api/watches/${made.id}/deliveries`, KEYS.alice)).json().result[0];
    assert.equal(delivery.attempts, 3);

    receiver.script.push(400);
    const refused = post(creators.fern, 4);
    await until(async () => {
      const list = (await api("GET", `/api/watches/${made.id}/deliveries`, KEYS.alice)).json().result;
      return list.some((d: any) => d.postId === refused.id && d.status === "failed");
    });
    const failed = (await api("GET", `/api/watches/${made.id}/deliveries`, KEYS.alice))
      .json()
      .result.find((d: any) => d.postId === refused.id);
    assert.equal(failed.attempts, 1, "no retry after a 400");
    assert.equal(failed.lastStatusCode, 400);
  });

  it("pauses a watch whose target answers 410 Gone, and does not follow a redirect", async () => {
    const gone = makeProfile("watch.gone", makePosts(2, { salt: 12_200 }));
    stack.fake.profiles.set(gone.username, gone);
    const made = await watch(KEYS.bob, {
      url: "https://www.tiktok.com/@watch.gone",
      target: { type: "webhook", url: `${receiver.url}/gone` },
    });
    receiver.secrets.push(made.secret);
    receiver.script.push({ status: 302, headers: { location: `${receiver.url}/elsewhere` } }, 410);
    post(gone, 5);
    await until(() => receiver.received.some((entry) => entry.path === "/gone"));
    post(gone, 6);
    await until(
      async () => (await api("GET", `/api/watches/${made.id}`, KEYS.bob)).json().result.paused !== false,
    );
    const state = (await api("GET", `/api/watches/${made.id}`, KEYS.bob)).json().result;
    assert.equal(state.paused.reason, "target_gone");
    assert.equal(
      receiver.received.filter((entry) => entry.path === "/elsewhere").length,
      0,
      "the redirect was not followed",
    );
  });

  it("sends Discord an embed per post and Telegram a message, and never shows a token or a Discord URL", async () => {
    const hook = `${discord.url}/api/webhooks/123456/secret-discord-token`;
    const toDiscord = await watch(KEYS.bob, {
      url: "https://www.tiktok.com/@watch.river",
      target: { type: "discord", url: hook },
    });
    const toTelegram = await watch(KEYS.bob, {
      url: "https://www.tiktok.com/@watch.river",
      target: { type: "telegram", botToken: BOT_TOKEN, chatId: "-1001234567" },
    });
    const fresh = post(creators.river, 7);
    await until(
      () => discord.received.length > 0 && telegram.received.length > 0,
      8_000,
      "Discord and Telegram",
    );
    const embed = discord.received[0]?.json.embeds[0];
    assert.equal(embed.url, `https://www.tiktok.com/@watch.river/video/${fresh.id}`);
    assert.equal(embed.title, `fresh post 7`);
    assert.equal(telegram.received[0]?.json.chat_id, "-1001234567");
    assert.match(telegram.received[0]?.json.text, new RegExp(fresh.id));

    const answers = [
      JSON.stringify(toDiscord),
      JSON.stringify(toTelegram),
      (await api("GET", "/api/watches", KEYS.bob)).body,
      (await api("GET", `/api/watches/${toTelegram.id}`, KEYS.bob)).body,
      (await api("GET", `/api/watches/${toDiscord.id}/deliveries`, KEYS.bob)).body,
    ].join("\n");
    for (const secret of [BOT_TOKEN, "secret-discord-token"]) {
      assert.ok(!answers.includes(secret), `an answer shows ${secret}`);
      assert.ok(!logs.join("").includes(secret), `a log line shows ${secret}`);
    }
  });

  it("counts watches, checks and deliveries in /metrics", async () => {
    const metrics = (await stack.app.inject({ url: "/metrics" })).body;
    assert.match(metrics, /^tiktokdl_watches [1-9]\d*$/m);
    assert.match(metrics, /^tiktokdl_watch_checks_total\{outcome="ok"\} [1-9]\d*$/m);
    assert.match(metrics, /^tiktokdl_watch_deliveries_total\{outcome="delivered"\} [1-9]\d*$/m);
    assert.match(metrics, /^tiktokdl_watch_queue_depth \d+$/m);
    assert.match(metrics, /^tiktokdl_watch_oldest_pending_seconds [\d.]+$/m);
    assert.match(metrics, /^tiktokdl_watch_delivery_delay_seconds_count [1-9]\d*$/m);
  });

  it("tells Telegram of a post with a caption longer than a message may be, cut to fit, its link kept", async () => {
    const long = makeProfile("watch.long", makePosts(1, { salt: 12_500 }));
    stack.fake.profiles.set(long.username, long);
    const made = await watch(KEYS.bob, {
      url: "https://www.tiktok.com/@watch.long",
      target: { type: "telegram", botToken: BOT_TOKEN, chatId: "-1007654321" },
    });
    const fresh = post(long, 8);
    fresh.caption = "a very long caption ".repeat(300);
    await until(
      () => telegram.received.some((entry) => entry.json.chat_id === "-1007654321"),
      8_000,
      "Telegram",
    );
    const text = telegram.received.find((entry) => entry.json.chat_id === "-1007654321")?.json.text as string;
    assert.ok([...text].length <= 4096, `${[...text].length} characters`);
    assert.ok(text.endsWith(`https://www.tiktok.com/@watch.long/video/${fresh.id}`));
    const deliveries = (await api("GET", `/api/watches/${made.id}/deliveries`, KEYS.bob)).json().result;
    assert.equal(deliveries[0].status, "delivered");
  });

  it("keeps each key's watches its own, within its allowance and the minimum interval", async () => {
    const mine = await watch(KEYS.alice, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/mine` },
    });
    assert.equal((await api("GET", `/api/watches/${mine.id}`, KEYS.bob)).statusCode, 404);
    assert.equal((await api("DELETE", `/api/watches/${mine.id}`, KEYS.bob)).statusCode, 404);
    const bobs = (await api("GET", "/api/watches", KEYS.bob)).json().result as { id: string }[];
    assert.ok(!bobs.some((entry) => entry.id === mine.id));

    const forbidden = await api("POST", "/api/watches", KEYS.none, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/x` },
    });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().code, "WATCHES_FORBIDDEN");

    const tooOften = await api("POST", "/api/watches", KEYS.alice, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/x` },
      every: 0,
    });
    assert.equal(tooOften.statusCode, 400);
    assert.equal(tooOften.json().field, "every");
    assert.equal(tooOften.json().min, 1);

    // alice has three; her allowance is four.
    await watch(KEYS.alice, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/4` },
    });
    const fifth = await api("POST", "/api/watches", KEYS.alice, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/5` },
    });
    assert.equal(fifth.statusCode, 403);
    assert.equal(fifth.json().code, "WATCH_LIMIT");
    assert.equal((await api("DELETE", `/api/watches/${mine.id}`, KEYS.alice)).statusCode, 204);
    assert.equal((await api("GET", `/api/watches/${mine.id}`, KEYS.alice)).statusCode, 404);
  });

  it("makes no watch of a list that does not exist or is private, and sends a test event on demand", async () => {
    const missing = await api("POST", "/api/watches", KEYS.bob, {
      url: "https://www.tiktok.com/@no.such.creator.here",
      target: { type: "webhook", url: `${receiver.url}/x` },
    });
    assert.equal(missing.statusCode, 404, missing.body);
    const locked = await api("POST", "/api/watches", KEYS.bob, {
      url: "https://www.tiktok.com/@locked.down",
      target: { type: "webhook", url: `${receiver.url}/x` },
    });
    assert.equal(locked.statusCode, 403, locked.body);

    const made = (await api("GET", "/api/watches", KEYS.alice)).json().result[0];
    assert.equal((await api("POST", `/api/watches/${made.id}/test`, KEYS.alice)).statusCode, 202);
    await until(() => receiver.events("watch.test").length > 0, 8_000, "a watch.test event");
  });

  it("signs with both secrets for a day after a rotation", async () => {
    const made = await watch(KEYS.bob, {
      url: "https://www.tiktok.com/@watch.fern",
      target: { type: "webhook", url: `${receiver.url}/rotate` },
    });
    const rotated = await api("POST", `/api/watches/${made.id}/secret`, KEYS.bob);
    assert.equal(rotated.statusCode, 200);
    const fresh = rotated.json().result.secret as string;
    assert.notEqual(fresh, made.secret);
    assert.equal((await api("POST", `/api/watches/${made.id}/test`, KEYS.bob)).statusCode, 202);
    receiver.secrets.splice(0, receiver.secrets.length, made.secret);
    await until(() => receiver.received.some((entry) => entry.path === "/rotate"), 8_000, "the test event");
    const signature = String(
      receiver.received.find((entry) => entry.path === "/rotate")?.headers["webhook-signature"],
    );
    assert.equal(signature.split(" ").length, 2, "two signatures");
  });
});

describe("watch targets on private addresses", () => {
  let stack: Stack;
  before(async () => {
    stack = await startWatchStack();
    stack.fake.profiles.set("watch.target", makeProfile("watch.target", makePosts(2, { salt: 12_300 })));
  });
  after(() => stack.close());

  for (const url of [
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://10.0.0.8/hook",
    "https://169.254.169.254/latest",
    "https://localhost/hook",
    "http://example.com/hook",
  ])
    it(`refuses ${url}`, async () => {
      const answer = await stack.app.inject({
        method: "POST",
        url: "/api/watches",
        payload: { url: "https://www.tiktok.com/@watch.target", target: { type: "webhook", url } },
      });
      assert.equal(answer.statusCode, 400, answer.body);
      assert.equal(answer.json().code, "INVALID_TARGET");
    });

  it("takes watches only from this machine's clients when there are no keys", async () => {
    const answer = await stack.app.inject({
      method: "POST",
      url: "/api/watches",
      remoteAddress: "203.0.113.9",
      payload: {
        url: "https://www.tiktok.com/@watch.target",
        target: { type: "webhook", url: "https://example.com/" },
      },
    });
    assert.equal(answer.statusCode, 403);
    assert.equal(answer.json().code, "WATCHES_FORBIDDEN");
  });
});

describe("a watched list that goes away", () => {
  it("is retried, then paused after WATCH_PAUSE_AFTER, and the target is told with watch.paused", async () => {
    const receiver = await new FakeWebhookReceiver().start();
    const stack = await startWatchStack({
      ALLOW_PRIVATE_TARGETS: "1",
      WATCH_PAUSE_AFTER: "2",
      LIST_CACHE_TTL: "0",
    });
    try {
      const creator = makeProfile("watch.leaving", makePosts(2, { salt: 12_400 }));
      stack.fake.profiles.set(creator.username, creator);
      const watch = await watchCreator(stack, creator.username, receiver, "/p");
      stack.fake.profiles.delete(creator.username);
      await until(
        async () =>
          (await stack.app.inject({ url: `/api/watches/${watch.id}` })).json().result.paused !== false,
        15_000,
        "the pause",
      );
      const state = (await stack.app.inject({ url: `/api/watches/${watch.id}` })).json().result;
      assert.equal(state.paused.reason, "list_unavailable");
      assert.equal(state.lastCheck.outcome, "failed");
      await until(() => receiver.events("watch.paused").length === 1, 8_000, "a watch.paused event");
    } finally {
      await stack.close();
      await receiver.close();
    }
  });
});

describe("a watch's check after a crash", () => {
  it("does not queue a post again whose event was queued before the watch could remember it", async () => {
    const { createWatches } = await import("../src/service/watches.js");
    const { createSqliteLasting } = await import("../src/stores/lasting-sqlite.js");
    const { createMetrics } = await import("../src/service/metrics.js");
    const { pino } = await import("pino");
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-watch-crash-"));
    const lasting = createSqliteLasting(join(dir, "data.db"));
    let clock = Date.now();
    const items = makePosts(2, { salt: 12_900 }).map((made) => ({
      id: made.id,
      url: `https://www.tiktok.com/@watch.crash/video/${made.id}`,
      type: "video" as const,
      createdAt: new Date(made.createTime * 1000).toISOString(),
      author: { username: "watch.crash" },
    }));
    const page = { kind: "profile", id: "x", title: "watch.crash", owner: { username: "watch.crash" } };
    let shown = items.slice(1);
    const watches = createWatches({
      lasting,
      listPage: async () =>
        ({ ...page, items: shown, provider: "native", cached: false, fetchedAt: clock }) as never,
      send: async () => ({ kind: "delivered", status: 200 }),
      checkTarget: async () => {},
      now: () => clock,
      random: () => 0,
      log: pino({ enabled: false }),
      metrics: createMetrics({ activeTunnels: () => 0, proxies: () => [] }).watches,
      settings: { minIntervalS: 1, maxPerInstance: 10, pauseAfterS: 3600, retryDelaysS: [1] },
    });
    try {
      const owner = { id: "local", allowance: 5 };
      const { watch } = await watches.create(owner, {
        url: "https://www.tiktok.com/@watch.crash",
        target: { type: "webhook", url: "https://hooks.example.com/x" },
        every: 1,
      });
      const key = `local~${watch.id}`;
      const before = await lasting.get("watches", key);
      shown = items;
      clock += 5_000;
      await watches.check(new AbortController().signal);
      // As if the process died after queueing the event and before the watch remembered the post.
      await lasting.put("watches", key, { ...(before as object), nextCheckAt: 0 });
      clock += 5_000;
      await watches.check(new AbortController().signal);
      const told = (await watches.deliveries(owner, watch.id)).filter((d) => d.event === "post.created");
      assert.deepEqual(
        told.map((delivery) => delivery.postId),
        [items[0]?.id],
        "the new post was queued once",
      );
    } finally {
      await lasting.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the fake Discord and Telegram", () => {
  it("answer a body they cannot read with the 400 the real ones give, not a crash", async () => {
    const discord = await new FakeDiscord().start();
    const telegram = await new FakeTelegram(BOT_TOKEN).start();
    try {
      const hook = `${discord.url}/api/webhooks/1/token`;
      const form = await fetch(hook, { method: "POST", body: new URLSearchParams({ content: "hi" }) });
      assert.equal(form.status, 400, "Discord reads JSON (or multipart), not a form");
      const broken = await fetch(hook, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      });
      assert.equal(broken.status, 400);
      const send = `${telegram.url}/bot${BOT_TOKEN}/sendMessage`;
      const garbled = await fetch(send, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      });
      assert.equal(garbled.status, 400);
      const asForm = await fetch(send, {
        method: "POST",
        body: new URLSearchParams({ chat_id: "42", text: "hi" }),
      });
      assert.equal(asForm.status, 200, "Telegram takes a form too");
      assert.equal(discord.received.length + telegram.received.length, 1);
    } finally {
      await Promise.all([discord.close(), telegram.close()]);
    }
  });
});
