import assert from "node:assert/strict";
import type { Stack } from "../helpers.js";

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
export async function listPages(stack: Stack, url: string, limit: number): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await list(stack, { url, limit: String(limit), ...(cursor ? { cursor } : {}) });
    assert.equal(status, 200, JSON.stringify(body));
    pages.push(body.result);
    cursor = body.result.cursor;
  } while (cursor && pages.length < 50);
  return pages;
}
