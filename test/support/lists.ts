import assert from "node:assert/strict";
import { PROVIDERS } from "../../src/sources/registry.js";
import { nativeSource } from "../../src/sources/tiktok/web/index.js";
import { type FakeProviders, startProviderFakes } from "../fakes/providers/index.js";
import { type Stack, startStack } from "../helpers.js";

export type Page = Record<string, any>;

/** One page of GET /api/list. */
export async function list(
  stack: Stack,
  query: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await stack.app.inject({ url: "/api/list", query, headers });
  return { status: response.statusCode, body: response.json() as Page };
}

/** Every page of a listing, following the cursors (50 at most), each a 200. */
export async function listPages(
  stack: Stack,
  url: string,
  limit: number,
  headers: Record<string, string> = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const query = { url, limit: String(limit), ...(cursor ? { cursor } : {}) };
    const { status, body } = await list(stack, query, headers);
    assert.equal(status, 200, JSON.stringify(body));
    pages.push(body.result);
    cursor = body.result.cursor;
  } while (cursor && pages.length < 50);
  return pages;
}

/** A service whose listers are TikTok's own and tikwm's, each against its fake; `close()` closes both. */
export async function startNativeAndTikwm(
  env: Record<string, string> = {},
): Promise<Stack & { fakes: FakeProviders }> {
  const fakes = await startProviderFakes();
  const stack = await startStack({
    fake: { waf: false },
    env: { ...fakes.env(), ALLOW_PRIVATE_UPSTREAMS: "1", ...env },
    deps: { sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "tikwm")] },
  });
  return {
    ...stack,
    fakes,
    async close() {
      await stack.close();
      await fakes.close();
    },
  };
}
