import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Stack, startStack } from "../helpers.js";

/** Two API keys: one marked `privateTabs`, one not. */
export const LOGIN_KEYS = { marked: "m".repeat(40), plain: "p".repeat(40) };
/** The operator login's `sessionid` (the fake TikTok's `logins` says whose account it is). */
export const OPERATOR_SESSION = "operator-login";

/**
 * A service with the operator's login (`TIKTOK_COOKIES`: a `sessionid`) and a keys file holding
 * LOGIN_KEYS; `close()` also removes the files.
 */
export async function startStackWithOperatorLogin(env: Record<string, string> = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-operator-login-"));
  await writeFile(
    join(dir, "cookies.txt"),
    `.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\t${OPERATOR_SESSION}\n`,
  );
  await writeFile(
    join(dir, "keys.json"),
    JSON.stringify({
      [LOGIN_KEYS.marked]: { name: "me", privateTabs: true },
      [LOGIN_KEYS.plain]: { name: "other" },
    }),
  );
  const stack = await startStack({
    fake: { waf: false },
    env: {
      ALLOW_PRIVATE_UPSTREAMS: "1",
      TIKTOK_COOKIES: join(dir, "cookies.txt"),
      API_KEYS_FILE: join(dir, "keys.json"),
      ...env,
    },
  });
  return {
    ...stack,
    async close() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
