import { randomBytes } from "node:crypto";
import type { FakeRequest } from "./server.js";

/** A site's per-visit token bound to the cookie set with it, as the token pages do. */
export class TokenSessions {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly cookieName: string) {}

  issue(): { token: string; setCookie: string } {
    const token = randomBytes(16).toString("hex");
    const session = randomBytes(12).toString("hex");
    this.tokens.set(token, session);
    return { token, setCookie: `${this.cookieName}=${session}; Path=/; HttpOnly` };
  }

  valid(request: FakeRequest, token: string | null | undefined): boolean {
    return token != null && this.tokens.get(token) === request.cookies.get(this.cookieName) && token !== "";
  }
}
