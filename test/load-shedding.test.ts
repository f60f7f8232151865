import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { delay, startStack } from "./helpers.js";

/** Keeps the event loop busy, as a burst of CPU-heavy work would. */
function blockFor(ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

describe("load shedding", () => {
  it("answers 503 SERVICE_UNAVAILABLE with Retry-After while the event loop lags; probes still answer", async () => {
    const stack = await startStack({ env: { MAX_EVENT_LOOP_DELAY_MS: "20" } });
    try {
      const calm = await stack.app.inject({ url: "/api" });
      assert.equal(calm.statusCode, 200);
      // Longer than a sampling interval, so the next sample sees the lag whenever it falls.
      blockFor(3_000);
      await delay(20);
      const shed = await stack.app.inject({ url: "/api/download?url=x" });
      assert.equal(shed.statusCode, 503);
      assert.equal(shed.headers["retry-after"], "5");
      assert.deepEqual(Object.keys(shed.json()).sort(), ["code", "error"]);
      assert.equal(shed.json().code, "SERVICE_UNAVAILABLE");
      assert.equal((await stack.app.inject({ url: "/api/ping" })).statusCode, 200);
      assert.equal((await stack.app.inject({ url: "/metrics" })).statusCode, 200);
      // The next samples find the loop calm again.
      await delay(2_200);
      assert.equal((await stack.app.inject({ url: "/api" })).statusCode, 200);
    } finally {
      await stack.close();
    }
  });

  it("MAX_EVENT_LOOP_DELAY_MS=0 and MAX_HEAP_USED_MB=0 turn it off", async () => {
    const stack = await startStack({ env: { MAX_EVENT_LOOP_DELAY_MS: "0", MAX_HEAP_USED_MB: "0" } });
    try {
      blockFor(3_000);
      await delay(20);
      assert.equal((await stack.app.inject({ url: "/api" })).statusCode, 200);
    } finally {
      await stack.close();
    }
  });

  it("sheds on the heap cap too", async () => {
    const stack = await startStack({ env: { MAX_HEAP_USED_MB: "1" } });
    try {
      await delay(1_100);
      const shed = await stack.app.inject({ url: "/api" });
      assert.equal(shed.statusCode, 503);
      assert.equal(shed.json().code, "SERVICE_UNAVAILABLE");
    } finally {
      await stack.close();
    }
  });
});
