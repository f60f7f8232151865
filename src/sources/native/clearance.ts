import type { CookieJar } from "tough-cookie";
import { clearanceValue, parseWafChallenge, solveProofOfWork } from "./waf.js";

/** TikTok's own script gives the cookie Max-Age=1; like yt-dlp we keep a solution up to two minutes. */
export const CLEARANCE_LIFETIME_MS = 120_000;

interface Cookie {
  name: string;
  value: string;
  expiresAt: number;
}

/**
 * Solved WAF cookies, shared by every extraction of one app: later page requests carry them and skip
 * the challenge. Only one solve runs at a time; requests that meet the challenge meanwhile wait for it.
 */
export class WafClearance {
  private cookies: Cookie[] = [];
  private solving: Promise<void> | undefined;

  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs = CLEARANCE_LIFETIME_MS,
  ) {}

  async applyTo(jar: CookieJar): Promise<void> {
    const now = this.now();
    this.cookies = this.cookies.filter((cookie) => cookie.expiresAt > now);
    for (const cookie of this.cookies) {
      const seconds = Math.max(1, Math.floor((cookie.expiresAt - now) / 1000));
      await jar.setCookie(
        `${cookie.name}=${cookie.value}; Domain=.tiktok.com; Path=/; Max-Age=${seconds}`,
        "https://www.tiktok.com/",
        { ignoreError: true },
      );
    }
  }

  solve(html: string): Promise<void> {
    this.solving ??= this.solveNow(html).finally(() => {
      this.solving = undefined;
    });
    return this.solving;
  }

  forget(): void {
    this.cookies = [];
  }

  private async solveNow(html: string): Promise<void> {
    const challenge = parseWafChallenge(html);
    const solution = await solveProofOfWork(challenge.seed, challenge.digest);
    const expiresAt = this.now() + this.lifetimeMs;
    this.cookies = [
      { name: challenge.cookieName, value: clearanceValue(challenge.challenge, solution), expiresAt },
    ];
    if (challenge.extraCookie) this.cookies.push({ ...challenge.extraCookie, expiresAt });
  }
}
