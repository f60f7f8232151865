import { ApiError } from "../domain/errors.js";
import type { WatchTarget } from "../domain/watches.js";
import { refusePrivateHost } from "../net/addresses.js";

const BOT_TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;
const CHAT_ID = /^-?\d{1,20}$|^@[A-Za-z0-9_]{5,32}$/;

const invalid = (message: string) => new ApiError(400, "INVALID_TARGET", message);

/**
 * A watch's target, checked when it is made: https only (http too where private targets are allowed), no
 * credentials in the address, and not a private, loopback, link-local or otherwise internal address,
 * directly or through its name. Each delivery is checked again on the address it connects to.
 */
export async function checkTarget(target: WatchTarget, allowPrivate: boolean): Promise<void> {
  if (target.type === "telegram") {
    if (!BOT_TOKEN.test(target.botToken))
      throw invalid("The Telegram bot token is not one (<digits>:<token>).");
    if (!CHAT_ID.test(target.chatId)) throw invalid("The Telegram chat id is a number or an @channel name.");
    return;
  }
  const url = URL.canParse(target.url) ? new URL(target.url) : undefined;
  if (!url) throw invalid(`The ${target.type} target is not a valid address.`);
  const schemes = allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) throw invalid(`The ${target.type} target must be an https address.`);
  if (url.username || url.password)
    throw invalid(`The ${target.type} target must not carry a user or password.`);
  if (allowPrivate) return;
  try {
    await refusePrivateHost(url.hostname);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw invalid(
      typeof code === "string" && code.startsWith("E")
        ? `The ${target.type} target's host does not resolve.`
        : `The ${target.type} target is a private or internal address; it is refused.`,
    );
  }
}
