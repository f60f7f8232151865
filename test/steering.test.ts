import assert from "node:assert/strict";
import { createServer, get as httpGet, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { postIdsInLinks, withIdEvidence } from "../src/domain/media.js";
import { SourceHealth } from "../src/extraction/health.js";
import { buildParts, PROVIDERS } from "../src/sources/registry.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import type { SourceDescriptor } from "../src/sources/types.js";
import {
  type FakeProviders,
  PHOTO_POST,
  PHOTO_URL,
  PROVIDER_FAKES,
  startProviderFakes,
  VIDEO_POST,
  VIDEO_URL,
} from "./fakes/providers/index.js";
import { json as fakeJson } from "./fakes/providers/server.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, type Stack, scriptedSource, startStack, videoFrom, videoSourceAt } from "./helpers.js";

const forced = (type: string) => ({ type, rotateOnError: "false", nocache: "1" });

type Providers = { name: string; health: { circuit: string; failures: number } }[];

describe("an answer must prove which post it is", () => {
  let fakes: FakeProviders;
  let stack: Stack;
  const unproven = scriptedSource("nameless", (input) => ({
    ...videoFrom("nameless")(input),
    // No id anywhere: the files' addresses carry none, the answer names no post.
    video: { noWatermark: "https://cdn.nameless.example/file/nwm.mp4" },
  }));
  before(async () => {
    // tikwm answers every request with the photo post's data: a site whose own cache mixed posts up.
    fakes = await startProviderFakes({
      tikwm: (request) => {
        const query = new URLSearchParams(request.query);
        query.set("url", PHOTO_URL);
        return PROVIDER_FAKES.tikwm?.handler({ ...request, query }) ?? fakeJson({}, 500);
      },
    });
    stack = await startStack({
      fake: { waf: false },
      env: { ...fakes.env(), ALLOW_PRIVATE_UPSTREAMS: "1" },
      deps: {
        sources: [
          nativeSource,
          ...PROVIDERS.filter((provider) => provider.name === "tikwm"),
          // The scripted source reads no id here: its answers are unproven.
          { ...unproven.descriptor, create: unprovenCreate(unproven.descriptor) },
        ],
      },
    });
  });
  after(async () => {
    await stack.close();
    await fakes.close();
  });

  it("refuses a provider's answer for another post, and nobody ever sees it", async () => {
    const first = await download(stack.app, { url: VIDEO_URL, type: "native" });
    assert.equal(first.status, 200);
    const pages = stack.fake.pageRequests(VIDEO_POST.id);
    for (let i = 0; i < 3; i++) {
      const liar = await download(stack.app, { url: VIDEO_URL, ...forced("tikwm") });
      assert.equal(liar.status, 502, JSON.stringify(liar.body));
      assert.match(
        liar.body.error,
        new RegExp(`tikwm \\(invalid_result: answered for post ${PHOTO_POST.id}`),
      );
    }
    for (const type of ["random", "native"]) {
      const later = await download(stack.app, { url: VIDEO_URL, type });
      assert.equal(later.status, 200);
      assert.equal(later.body.result.provider, "native");
      assert.equal(later.body.result.id, VIDEO_POST.id);
      assert.equal(later.body.result.cached, true);
    }
    assert.equal(stack.fake.pageRequests(VIDEO_POST.id), pages, "native's entry was never replaced");
    // The tunnel link native gave still serves native's file.
    const file = await stack.app.inject({ url: first.body.result.stream.video });
    assert.equal(file.statusCode, 200);
  });

  it("an unproven answer serves its asker and its own links, never everyone's entry", async () => {
    const mine = await download(stack.app, { url: PHOTO_URL, type: "nameless", nocache: "1" });
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.result.provider, "nameless");
    const calls = unproven.calls;

    // Everyone else (random) gets TikTok's own answer: the unproven one did not become the shared entry.
    const everyone = await download(stack.app, { url: PHOTO_URL });
    assert.equal(everyone.body.result.provider, "native");
    assert.equal(everyone.body.result.cached, false, "nothing was shared from the unproven answer");

    // Its asker, naming it again, is answered from its own entry; its tunnel link serves its file
    // from that entry (no new extraction), and a native link is never served the unproven file.
    const again = await download(stack.app, { url: PHOTO_URL, type: "nameless" });
    assert.equal(again.body.result.cached, true);
    assert.equal(again.body.result.urls[0], "https://cdn.nameless.example/file/nwm.mp4");
    assert.equal(unproven.calls, calls);
    const stored = (await stack.app.inject({ url: "/api/stored-links" })).json() as { links?: string[] };
    assert.ok(!JSON.stringify(stored).includes("nameless"), "an unproven entry is not listed");
    const native = await download(stack.app, { url: PHOTO_URL, type: "native" });
    assert.equal(native.body.result.provider, "native");
    assert.notEqual(native.body.result.urls[0], "https://cdn.nameless.example/file/nwm.mp4");
  });
});

/** The scripted source as a source whose answers carry no proof of the post. */
function unprovenCreate(descriptor: SourceDescriptor): SourceDescriptor["create"] {
  return (deps) => {
    const { extract } = buildParts(descriptor.create, deps);
    return async (input) => ({ ...(await extract(input)), verified: false });
  };
}

describe("circuits that one client cannot open", () => {
  it("counts failures by post, and leaves a client's forced attempts out of the circuit", () => {
    let now = 0;
    const health = new SourceHealth(() => now, { failureThreshold: 3 });
    for (let i = 0; i < 5; i++) {
      now += 10;
      health.record("tikwm", { ok: false, ms: 5, reason: "bad_response", post: "7000000000000000001" });
    }
    assert.equal(health.circuit("tikwm"), "closed", "five failures on one post count once");
    for (let i = 0; i < 5; i++)
      health.record(
        "ssstik",
        { ok: false, ms: 5, reason: "bad_response", post: `70000000000000000${10 + i}` },
        {
          forced: true,
        },
      );
    assert.equal(health.circuit("ssstik"), "closed", "forced attempts do not open a circuit");
    assert.equal(health.snapshot("ssstik").failures, 5, "they are still counted in the totals");
    for (let i = 0; i < 3; i++)
      health.record("snaptik", {
        ok: false,
        ms: 5,
        reason: "http_status",
        post: `70000000000000000${20 + i}`,
      });
    assert.equal(health.circuit("snaptik"), "open", "a source failing on every post still opens");
  });

  it("a client asking one provider again and again for a post it answers badly opens nothing", async () => {
    // ssstik answers garbage for the video post only (its real exchange, token included, for the others).
    const fakes = await startProviderFakes({
      ssstik: (request) =>
        request.form.get("id")?.includes(VIDEO_POST.id)
          ? fakeJson({ broken: true })
          : (PROVIDER_FAKES.ssstik?.handler(request) ?? fakeJson({}, 500)),
    });
    const stack = await startStack({
      fake: { waf: false },
      env: { ...fakes.env(), ALLOW_PRIVATE_UPSTREAMS: "1", CIRCUIT_FAILURES: "3" },
      deps: { sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "ssstik")] },
    });
    try {
      for (let i = 0; i < 6; i++) {
        const { status } = await download(stack.app, { url: VIDEO_URL, ...forced("ssstik") });
        assert.equal(status, 502);
      }
      const providers = (await stack.app.inject({ url: "/api/providers" })).json() as Providers;
      const ssstik = providers.find((provider) => provider.name === "ssstik")?.health;
      assert.equal(ssstik?.circuit, "closed");
      assert.equal(ssstik?.failures, 6);
      const photo = await download(stack.app, { url: PHOTO_URL, type: "ssstik" });
      assert.equal(photo.body.result?.provider, "ssstik", "ssstik still serves everyone else");
    } finally {
      await stack.close();
      await fakes.close();
    }
  });
});

describe("a photo ZIP whose image dies midway", () => {
  it("is cut at once, opens no later image, and the log names the media host", async () => {
    const asked: string[] = [];
    const images: Server = createServer((request, response) => {
      asked.push(request.url ?? "");
      response.writeHead(200, { "content-type": "image/jpeg", "content-length": 200_000 });
      if (request.url === "/2.jpeg") {
        // Half the file, then the connection dies.
        response.write(Buffer.alloc(50_000, 2));
        setTimeout(() => response.socket?.destroy(), 50);
        return;
      }
      response.end(Buffer.alloc(200_000, 1));
    });
    await new Promise<void>((resolve) => images.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    const photos: SourceDescriptor = {
      name: "photos",
      origin: "https://photos.example",
      platform: "tiktok",
      upstream: "photos",
      params: [],
      create: () => async (input) => ({
        media: {
          id: input.id,
          type: "photo",
          author: { username: "trail.notes" },
          images: [1, 2, 3].map((n) => `${base}/${n}.jpeg`),
          music: { url: `${base}/9.jpeg` },
        },
        verified: true,
      }),
    };
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", LOG_LEVEL: "info" },
      deps: { sources: [photos], logger: {}, logStream },
    });
    try {
      const { body } = await download(stack.app, {
        url: `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`,
      });
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const port = (stack.app.server.address() as AddressInfo).port;
      const started = Date.now();
      const outcome = await new Promise<{ bytes: number; complete: boolean }>((resolve) => {
        httpGet(`http://127.0.0.1:${port}${body.result.stream.zip}`, (response) => {
          let bytes = 0;
          response.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
          });
          response.on("end", () => resolve({ bytes, complete: response.complete }));
          response.on("error", () => resolve({ bytes, complete: false }));
          response.on("aborted", () => resolve({ bytes, complete: false }));
        }).on("error", () => resolve({ bytes: 0, complete: false }));
      });
      const took = Date.now() - started;
      assert.equal(outcome.complete, false, "the client sees a cut transfer, not a complete archive");
      assert.ok(took < 10_000, `cut after ${took} ms (the stall watchdog would take 61 s)`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(asked, ["/1.jpeg", "/2.jpeg"], "no later image is opened");
      const log = lines.join("");
      assert.match(log, /photo_2\.jpg: the media host cut the file/);
      assert.doesNotMatch(log, /reads too slowly/);
    } finally {
      await stack.close();
      images.closeAllConnections();
      await new Promise<void>((resolve) => images.close(() => resolve()));
    }
  });
});

describe("batch", () => {
  it("extracts a post listed forty times once, nocache or not; an over-long link fails its own row", async () => {
    const counted = scriptedSource("counted", videoFrom("counted"));
    const stack = await startStack({ fake: { waf: false }, deps: { sources: [counted.descriptor] } });
    try {
      for (const nocache of [true, false]) {
        const before = counted.calls;
        const urls = Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0 ? VIDEO_URL : `${VIDEO_URL}?is_from_webapp=1&sender_device=pc&n=${i}`,
        );
        const response = await stack.app.inject({
          method: "POST",
          url: "/api/download/batch",
          payload: { urls, nocache },
        });
        assert.equal(response.statusCode, 200);
        const { results } = response.json() as { results: { result?: { id: string } }[] };
        assert.ok(results.every((row) => row.result?.id === VIDEO_POST.id));
        assert.equal(counted.calls - before, nocache ? 1 : 0, `nocache=${nocache}`);
      }
      const long = `${VIDEO_URL}?${"x".repeat(16 * 1024)}`;
      const response = await stack.app.inject({
        method: "POST",
        url: "/api/download/batch",
        payload: { urls: [VIDEO_URL, long, PHOTO_URL] },
      });
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      const { results } = response.json() as { results: Record<string, any>[] };
      assert.equal(results[0]?.result.id, VIDEO_POST.id);
      assert.equal(results[1]?.code, "INVALID_URL");
      assert.equal(results[1]?.status, 400);
      assert.equal(results[2]?.result.id, PHOTO_POST.id);
    } finally {
      await stack.close();
    }
  });
});

describe("every framework answer in the API's shape", () => {
  it("a bare OPTIONS is a 204, and GET * is a JSON 400", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const bare = await stack.app.inject({ method: "OPTIONS", url: "/api/download" });
      assert.equal(bare.statusCode, 204);
      assert.equal(bare.body, "", "a 204 has no body (docs/api.md, Errors)");
      assert.match(String(bare.headers["access-control-allow-methods"]), /GET/);
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const port = (stack.app.server.address() as AddressInfo).port;
      const raw = (line: string) =>
        new Promise<string>((resolve) => {
          const socket = connect(port, "127.0.0.1");
          let text = "";
          socket.on("data", (chunk) => {
            text += chunk;
          });
          socket.on("close", () => resolve(text));
          socket.write(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
        });
      for (const target of ["GET * HTTP/1.1", "POST * HTTP/1.1", "GET api HTTP/1.1"]) {
        const answer = await raw(target);
        assert.match(answer, /^HTTP\/1\.1 400 /, target);
        assert.match(answer, /content-type: application\/json/i, target);
        assert.match(answer, /\{"error":"[^"]+","code":"INVALID_REQUEST"\}$/, target);
      }
      assert.match(await raw("OPTIONS * HTTP/1.1"), /^HTTP\/1\.1 204 /);
    } finally {
      await stack.close();
    }
  });
});

describe("the id evidence rule", () => {
  const now = Date.parse("2026-11-30T00:00:00Z");
  const asked = VIDEO_POST.id;
  const media = (noWatermark: string, music?: string) =>
    ({ id: asked, type: "video", video: { noWatermark }, music: { url: music } }) as const;

  it("reads post ids from file paths, never from audio addresses or query strings", () => {
    assert.deepEqual(postIdsInLinks(media(`https://www.tikwm.com/video/media/play/${asked}.mp4`), now), [
      asked,
    ]);
    assert.deepEqual(postIdsInLinks(media(`https://tikcdn.io/ssstik/${PHOTO_POST.id}`), now), [
      PHOTO_POST.id,
    ]);
    // TikTok's music ids look like post ids: an audio address is no evidence.
    assert.deepEqual(
      postIdsInLinks(
        media("https://cdn.example/v/file.mp4", `https://sf16.example/obj/${PHOTO_POST.id}.mp3`),
        now,
      ),
      [],
    );
    assert.deepEqual(postIdsInLinks(media(`https://d.example/d?token=${PHOTO_POST.id}`), now), []);
    // Not a plausible post id (its time would be before TikTok existed).
    assert.deepEqual(postIdsInLinks(media("https://cdn.example/1000000000000000000.mp4"), now), []);
  });

  it("an answer that names the asked post is proven, another post refused, none unproven", () => {
    const base = media("https://cdn.example/v.mp4");
    assert.deepEqual(withIdEvidence(asked, base, [asked]), { media: base, verified: true });
    assert.equal(withIdEvidence(asked, base, [asked, PHOTO_POST.id]).media.id, PHOTO_POST.id);
    assert.deepEqual(withIdEvidence(asked, base, [undefined, ""]), { media: base, verified: false });
  });
});

describe("a tunnel link whose source fails when its file has expired", () => {
  it("is served by the re-extraction's source, again within the minute, not a 502", async () => {
    const files = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "video/mp4", "content-length": 4 }).end("mp4!");
    });
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    const backup = videoSourceAt("backup", `http://127.0.0.1:${(files.address() as AddressInfo).port}/v.mp4`);
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1" },
      deps: { sources: [nativeSource, backup] },
    });
    try {
      const first = await download(stack.app, { url: VIDEO_URL, type: "native" });
      assert.equal(first.body.result.provider, "native");
      // The file's address has expired (the CDN answers 403) and TikTok's page now fails too.
      stack.fake.revokeSessions();
      stack.fake.scenarios.set(VIDEO_POST.id, { kind: "status", status: 500 });
      for (let i = 0; i < 3; i++) {
        const file = await stack.app.inject({ url: first.body.result.stream.video });
        assert.equal(file.statusCode, 200, `request ${i + 1}: ${file.body.slice(0, 200)}`);
        assert.equal(file.body, "mp4!");
      }
    } finally {
      await stack.close();
      files.close();
    }
  });
});
