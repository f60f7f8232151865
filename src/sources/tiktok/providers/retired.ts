import { SourceFailure } from "../../../domain/errors.js";
import type { SourceDescriptor } from "../../types.js";

/**
 * Sites the original project shipped that are dead or unusable (docs/upstreams/providers.md, last provider section).
 * They stay listed, in maintenance with the reason, and are never called.
 */
const RETIRED: { name: string; origin: string; reason: string }[] = [
  { name: "tikdown", origin: "https://tikdown.org", reason: "Its index.php flow no longer answers." },
  { name: "downtik", origin: "https://downtik.com", reason: "A savetik mirror that no longer answers." },
  {
    name: "savefrom",
    origin: "https://savefrom.net",
    reason: "Answers an encrypted script that needs a browser.",
  },
  { name: "getvidtik", origin: "https://getvidtik.com", reason: "The site is gone." },
  { name: "dddtik", origin: "https://dddtik.com", reason: "The site is gone or behind a captcha." },
  { name: "tokup", origin: "https://tokup.app", reason: "The site is gone or behind a captcha." },
  { name: "ttsave", origin: "https://ttsave.app", reason: "The site is gone or behind a captcha." },
];

export const RETIRED_SOURCES: SourceDescriptor[] = RETIRED.map(({ name, origin, reason }) => ({
  name,
  platform: "tiktok",
  origin,
  upstream: name,
  params: [],
  maintenance: { reason },
  create: () => async () => {
    throw new SourceFailure("maintenance", reason);
  },
}));
