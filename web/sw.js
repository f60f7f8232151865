// The page's service worker: it makes the page installable (and so a share target on Android). It keeps
// nothing offline: every request goes to the network as if it were not there, so answers are never stale.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  if (event.request.mode === "navigate") event.respondWith(fetch(event.request));
});
