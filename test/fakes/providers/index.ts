import { fasttoksaveFake } from "./fasttoksave.js";
import { lovetikFake } from "./lovetik.js";
import { musicaldownFake } from "./musicaldown.js";
import { savetikFake } from "./savetik.js";
import { FakeProviders } from "./server.js";
import { snaptikFake } from "./snaptik.js";
import { ssstikFake } from "./ssstik.js";
import { tikmateFake } from "./tikmate.js";
import { tikwmFake } from "./tikwm.js";
import { ttdownloaderFake } from "./ttdownloader.js";

export const PROVIDER_FAKES = {
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

export const startProviderFakes = () => new FakeProviders(PROVIDER_FAKES).start();
export { BROKEN_ID, PHOTO_POST, VIDEO_POST } from "./catalogue.js";
export type { FakeProviders } from "./server.js";
