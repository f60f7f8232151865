/**
 * Fault tolerance of the rotation: with half of the providers failing (HTTP 500, resets, garbage,
 * timeouts, answers without media), N fresh requests through the server; prints the success rate and
 * the mean number of upstream attempts per success, overall and after a warm-up.
 *
 *   npm run bench:faults [-- --requests 1000 --warmup 50]
 */
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { buildParts, PROVIDERS } from "../src/sources/registry.js";
import type { SourceDescriptor } from "../src/sources/types.js";
import { startProviderFakes, VIDEO_POST } from "../test/fakes/providers/index.js";
import type { Fault } from "../test/fakes/providers/server.js";

const FAULTS: Record<string, Fault> = {
  tikwm: "http500",
  ssstik: "reset",
  snaptik: "garbage",
  musicaldown: "timeout",
};

async function main() {
  const { values } = parseArgs({
    options: { requests: { type: "string", default: "1000" }, warmup: { type: "string", default: "50" } },
  });
  const total = Number(values.requests);
  const warmup = Number(values.warmup);

  const fakes = await startProviderFakes({
    // A fifth failing provider: it answers 200 with a result that has no media at all.
    lovetik: () => ({
      type: "application/json",
      body: JSON.stringify({ status: "ok", mess: "", links: [] }),
    }),
  });
  for (const [name, fault] of Object.entries(FAULTS)) fakes.faults.set(name, fault);

  let attempts = 0;
  const counted: SourceDescriptor[] = PROVIDERS.map((descriptor) => ({
    ...descriptor,
    create: (deps) => {
      const { extract } = buildParts(descriptor.create, deps);
      return (input) => {
        attempts++;
        return extract(input);
      };
    },
  }));
  const live = counted.filter((descriptor) => !descriptor.maintenance);
  const failing = [...Object.keys(FAULTS), "lovetik"];
  const config = loadConfig({ ...fakes.env(), RATE_LIMIT: "0", UPSTREAM_TIMEOUT_MS: "1000" });
  const app = await createApp(config, { logger: false, sources: counted });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/api/download?nocache=1&url=${encodeURIComponent(`https://www.tiktok.com/@river.cooks/video/${VIDEO_POST.id}`)}`;

  console.log(
    `fault-tolerance bench: ${total} requests, ${failing.length} of ${live.length} providers failing (${failing.join(", ")})`,
  );
  const phases = { all: { ok: 0, attempts: 0, n: 0 }, afterWarmup: { ok: 0, attempts: 0, n: 0 } };
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const before = attempts;
    const response = await fetch(url);
    await response.arrayBuffer();
    const used = attempts - before;
    for (const [phase, tally] of Object.entries(phases)) {
      if (phase === "afterWarmup" && i < warmup) continue;
      tally.n++;
      tally.attempts += used;
      if (response.status === 200) tally.ok++;
    }
  }
  const seconds = (Date.now() - started) / 1000;
  for (const [phase, tally] of Object.entries(phases)) {
    console.log(
      `${phase === "all" ? "all requests  " : `after ${warmup} warm-up`}: ${tally.n} requests, ${tally.n - tally.ok} lost, success ${((100 * tally.ok) / tally.n).toFixed(1)}%, ` +
        `${(tally.attempts / Math.max(tally.ok, 1)).toFixed(3)} upstream attempts per success`,
    );
  }
  const p = failing.length / live.length;
  const naive =
    (failing.length / live.length) *
    ((failing.length - 1) / (live.length - 1)) *
    ((failing.length - 2) / (live.length - 2));
  console.log(
    `(uniform random rotation with 3 tries would lose ${(100 * naive).toFixed(1)}% of requests at this failure rate ${(100 * p).toFixed(0)}%)`,
  );
  console.log(`took ${seconds.toFixed(1)} s`);
  await app.close();
  await fakes.close();
}

await main();
