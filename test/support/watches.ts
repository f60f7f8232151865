import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeWebhookReceiver } from "../fakes/receivers.js";
import { type Stack, startStack } from "../helpers.js";

/**
 * A service that keeps watches in a database file of its own (removed by `close()`), checks them every
 * second at most, and reaches the fake TikTok; `env` adds to or changes that.
 */
export async function startWatchStack(env: Record<string, string> = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-watch-stack-"));
  const stack = await startStack({
    fake: { waf: false },
    env: { DATA_DIR: dir, ALLOW_PRIVATE_UPSTREAMS: "1", WATCH_MIN_INTERVAL: "1", ...env },
  });
  return {
    ...stack,
    async close() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A watch of a creator, every second, to the receiver at `path`, made from this machine; its secret given to the receiver. */
export async function watchCreator(
  stack: Stack,
  username: string,
  receiver: FakeWebhookReceiver,
  path: string,
) {
  const made = await stack.app.inject({
    method: "POST",
    url: "/api/watches",
    payload: {
      url: `https://www.tiktok.com/@${username}`,
      target: { type: "webhook", url: `${receiver.url}${path}` },
      every: 1,
    },
  });
  assert.equal(made.statusCode, 201, made.body);
  const watch = made.json().result as { id: string; secret: string };
  receiver.secrets.push(watch.secret);
  return watch;
}
