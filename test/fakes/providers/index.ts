import { PHOTO_POST, VIDEO_POST } from "./catalogue.js";
import { fasttoksaveFake } from "./fasttoksave.js";
import { lovetikFake } from "./lovetik.js";
import { musicaldownFake } from "./musicaldown.js";
import { savetikFake } from "./savetik.js";
import { type FakeHandler, FakeProviders, type ProviderFake } from "./server.js";
import { snaptikFake } from "./snaptik.js";
import { ssstikFake } from "./ssstik.js";
import { tikmateFake } from "./tikmate.js";
import { tikwmFake } from "./tikwm.js";
import { ttdownloaderFake } from "./ttdownloader.js";

/** Every live provider's fake, by the provider's name (test/providers.test.ts fails for one without). */
export const PROVIDER_FAKES: Record<string, ProviderFake> = {
  tikwm: tikwmFake,
  ssstik: ssstikFake,
  snaptik: snaptikFake,
  musicaldown: musicaldownFake,
  lovetik: lovetikFake,
  savetik: savetikFake,
  tikmate: tikmateFake,
  ttdownloader: ttdownloaderFake,
  fasttoksave: fasttoksaveFake,
};

/** One server for every provider fake; `overrides` replaces some handlers (the fault bench's). */
export const startProviderFakes = (overrides: Record<string, FakeHandler> = {}) =>
  new FakeProviders({
    ...Object.fromEntries(Object.entries(PROVIDER_FAKES).map(([name, fake]) => [name, fake.handler])),
    ...overrides,
  }).start();

export { BROKEN_ID, PHOTO_POST, VIDEO_POST } from "./catalogue.js";

/** The catalogue's two posts as a client links them. */
export const VIDEO_URL = `https://www.tiktok.com/@river.cooks/video/${VIDEO_POST.id}`;
export const PHOTO_URL = `https://www.tiktok.com/@trail.notes/photo/${PHOTO_POST.id}`;
export type { FakeProviders } from "./server.js";
