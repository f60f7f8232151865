import { SourceFailure } from "../../../domain/errors.js";
import { elementById } from "../../../domain/html.js";
import type { PowSolver } from "./pow-solver.js";

/**
 * TikTok's "Please wait..." page (docs/upstreams/tiktok.md §2.10): a SHA-256 proof of work, solved here without
 * running any of its JavaScript.
 */
export interface WafChallenge {
  cookieName: string;
  /** The decoded challenge object; its other keys are kept as they are. */
  challenge: Record<string, unknown>;
  seed: Buffer;
  digest: Buffer;
  extraCookie?: { name: string; value: string };
}

export const MAX_WAF_ITERATIONS = 1_000_000;

function base64Bytes(text: string): Buffer {
  const normalised = text.replace(/-/g, "+").replace(/_/g, "/");
  return Buffer.from(normalised.padEnd(Math.ceil(normalised.length / 4) * 4, "="), "base64");
}

export function parseWafChallenge(html: string): WafChallenge {
  const cookieName = elementById(html, "*", "wci")?.class?.trim();
  const encoded = elementById(html, "*", "cs")?.class?.trim();
  if (!cookieName || !encoded || !/^[\w-]{1,64}$/.test(cookieName))
    throw new SourceFailure("blocked", "the WAF page has no challenge to solve");
  let challenge: Record<string, unknown>;
  try {
    challenge = JSON.parse(base64Bytes(encoded).toString("utf8"));
  } catch {
    throw new SourceFailure("blocked", "the WAF challenge is not readable");
  }
  const v = challenge?.v as Record<string, unknown> | undefined;
  if (typeof v?.a !== "string" || typeof v.c !== "string")
    throw new SourceFailure("blocked", "the WAF challenge lacks its seed or digest");
  const digest = base64Bytes(v.c);
  if (digest.length !== 32) throw new SourceFailure("blocked", "the WAF challenge digest is not SHA-256");
  const extraName = elementById(html, "*", "rci")?.class?.trim();
  const extraValue = elementById(html, "*", "rs")?.class?.trim();
  return {
    cookieName,
    challenge,
    seed: base64Bytes(v.a),
    digest,
    extraCookie:
      extraName && extraValue && /^[\w-]{1,64}$/.test(extraName)
        ? { name: extraName, value: extraValue }
        : undefined,
  };
}

/**
 * Finds the number whose digits, appended to the seed, hash to the digest: off the event loop, on every
 * core (`pow-solver.ts`), bounded at a million tries as yt-dlp bounds it.
 */
export async function solveProofOfWork(
  solver: PowSolver,
  seed: Buffer,
  digest: Buffer,
  signal?: AbortSignal,
): Promise<number> {
  const solution = await solver.solve(seed, digest, MAX_WAF_ITERATIONS, signal);
  if (solution < 0)
    throw new SourceFailure("blocked", `the WAF challenge has no solution below ${MAX_WAF_ITERATIONS}`);
  return solution;
}

/** The cookie value: base64 of the challenge object with `d` = base64 of the solution's digits. */
export function clearanceValue(challenge: Record<string, unknown>, solution: number): string {
  const solved = { ...challenge, d: Buffer.from(String(solution)).toString("base64") };
  return Buffer.from(JSON.stringify(solved)).toString("base64");
}

/** The cookies that carry a solution: the challenge cookie, and the second one when the page set it. */
export function challengeCookies(challenge: WafChallenge, solution: number): [string, string][] {
  const cookies: [string, string][] = [[challenge.cookieName, clearanceValue(challenge.challenge, solution)]];
  if (challenge.extraCookie) cookies.push([challenge.extraCookie.name, challenge.extraCookie.value]);
  return cookies;
}
