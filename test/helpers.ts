import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { pino } from "pino";
import { SourceFailure } from "../src/domain/errors.js";
import type { Media, MediaSession } from "../src/domain/media.js";
import { PLATFORMS } from "../src/domain/platforms.js";
import { createApp } from "../src/http/app.js";
import { createBrowserClient } from "../src/net/browser-client.js";
import { createHttpClient, type HttpClient } from "../src/net/http-client.js";
import { createUpstreamMap } from "../src/net/upstreams.js";
import { loadConfig } from "../src/service/config.js";
import type { ServiceDeps } from "../src/service/services.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import type { ExtractInput, Source, SourceDescriptor } from "../src/sources/types.js";
import { FakeTikTok, type FakeTikTokOptions } from "./fakes/tiktok.js";

export interface Stack {
  app: FastifyInstance;
  fake: FakeTikTok;
  /** Every logical address the service asked for, in order. */
  fetched: string[];
  close(): Promise<void>;
}

/** One service instance wired to its own fake TikTok. */
export async function startStack(
  options: {
    env?: Record<string, string>;
    fake?: FakeTikTokOptions;
    sharedFake?: FakeTikTok;
    deps?: ServiceDeps;
  } = {},
): Promise<Stack> {
  const fake = options.sharedFake ?? (await new FakeTikTok(options.fake).start());
  const closeFake = () => (options.sharedFake ? Promise.resolve() : fake.close());
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      UPSTREAM_TIKTOK: fake.url,
      RATE_LIMIT: "0",
      UPSTREAM_TIMEOUT_MS: "2000",
      // A test machine that runs a browser beside the tests lags now and then: load shedding is tested
      // on its own (test/load-shedding.test.ts), never as a 503 in another test.
      MAX_EVENT_LOOP_DELAY_MS: "0",
      ...options.env,
    });
  } catch (error) {
    await closeFake();
    throw error;
  }
  const http = createHttpClient({
    upstreams: createUpstreamMap(config.upstreams, options.deps?.platforms ?? PLATFORMS),
    timeoutMs: config.upstreamTimeoutMs,
    maxBytes: config.upstreamMaxBytes,
    allowPrivate: config.allowPrivateUpstreams,
  });
  const fetched: string[] = [];
  const recorded = (client: HttpClient): HttpClient => ({
    request: (request) => {
      fetched.push(String(request.url));
      return client.request(request);
    },
    stream: (request) => {
      fetched.push(String(request.url));
      return client.stream(request);
    },
    close: () => client.close(),
  });
  const browser = createBrowserClient({
    upstreams: createUpstreamMap(config.upstreams, options.deps?.platforms ?? PLATFORMS),
    timeoutMs: config.upstreamTimeoutMs,
    maxBytes: config.upstreamMaxBytes,
    allowPrivate: config.allowPrivateUpstreams,
    log: pino({ level: "silent" }),
    plain: http,
  });
  // Native only unless a test says otherwise: the providers' real sites must never be asked.
  const deps: ServiceDeps = {
    logger: false,
    http: recorded(http),
    browser: recorded(browser),
    sources: [nativeSource],
    ...options.deps,
  };
  const app = await createApp(config, deps).catch(async (error: unknown) => {
    await Promise.all([http.close(), closeFake()]);
    throw error;
  });
  return {
    app,
    fake,
    fetched,
    async close() {
      await app.close();
      await http.close();
      await closeFake();
    },
  };
}

export const json = (response: LightMyRequestResponse) => response.json() as Record<string, any>;

export async function download(app: FastifyInstance, query: Record<string, string>) {
  const response = await app.inject({ method: "GET", url: "/api/download", query });
  return { status: response.statusCode, body: json(response), headers: response.headers };
}

type Behaviour = (input: ExtractInput, call: number) => Promise<Media> | Media;

/** A source the test scripts: it counts its calls and does what it is told. */
export interface ScriptedSource {
  descriptor: SourceDescriptor;
  calls: number;
}

export function scriptedSource(
  name: string,
  behaviour: Behaviour,
  extra: Partial<Pick<Source, "params" | "maintenance">> = {},
): ScriptedSource {
  const scripted: ScriptedSource = {
    calls: 0,
    descriptor: {
      name,
      origin: `https://${name}.example`,
      platform: "tiktok",
      upstream: name,
      params: extra.params ?? [],
      maintenance: extra.maintenance,
      create: () => async (input) => {
        scripted.calls++;
        // A scripted source stands for one that reads the post's id from its upstream's answer.
        return { media: await behaviour(input, scripted.calls), verified: true };
      },
    },
  };
  return scripted;
}

export const videoFrom =
  (name: string) =>
  (input: ExtractInput): Media => ({
    id: input.id,
    type: "video",
    author: { username: "river.cooks" },
    video: {
      noWatermark: `https://cdn.${name}.example/${input.id}/nwm.mp4`,
      watermark: `https://cdn.${name}.example/${input.id}/wm.mp4`,
    },
    thumb: `https://cdn.${name}.example/${input.id}/cover.jpg`,
  });

export const failing =
  (reason: ConstructorParameters<typeof SourceFailure>[0] = "http_status") =>
  () => {
    throw new SourceFailure(reason, `scripted ${reason}`);
  };

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A source whose answer is one video at `address`, with the session the test gives (if any). */
export function videoSourceAt(name: string, address: string, session?: MediaSession): SourceDescriptor {
  return {
    name,
    origin: `https://${name}.example`,
    platform: "tiktok",
    upstream: name,
    params: [],
    create: () => async (input) => ({
      media: { id: input.id, type: "video", video: { noWatermark: address } },
      verified: true,
      ...(session ? { session } : {}),
    }),
  };
}

/**
 * Watches what this process holds (JS heap and buffers, not RSS: memory the allocator keeps after it was
 * freed would make RSS noisy without anything being held), sampled every 20 ms after a full collection,
 * so that only what is still referenced counts. Without the collection, chunks already relayed but not yet
 * collected count too, and how long a runtime leaves them depends on its garbage collector (Node 24's
 * leaves far more than Node 20's: 90-105 MiB against 5-38 MiB, for the same 6-10 MiB actually held).
 * `stop()` gives the peak growth in bytes since the start. Needs `--expose-gc` (npm test passes it).
 */
export function trackMemoryInUse() {
  const collect = globalThis.gc;
  if (!collect) throw new Error("memory is measured after a collection: run node with --expose-gc");
  const inUse = () => {
    collect();
    const memory = process.memoryUsage();
    return memory.heapUsed + memory.arrayBuffers;
  };
  const start = inUse();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, inUse());
  }, 20);
  return {
    stop() {
      clearInterval(sampler);
      return Math.max(peak, inUse()) - start;
    },
  };
}
