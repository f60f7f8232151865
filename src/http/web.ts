import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TypedApp } from "./types.js";

/** The web page's files, plain HTML/CSS/JS shipped as they are (no build step). */
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/page.js": { file: "page.js", type: "text/javascript; charset=utf-8" },
  "/api.js": { file: "api.js", type: "text/javascript; charset=utf-8" },
  "/post-card.js": { file: "post-card.js", type: "text/javascript; charset=utf-8" },
  "/list-view.js": { file: "list-view.js", type: "text/javascript; charset=utf-8" },
  "/i18n.js": { file: "i18n.js", type: "text/javascript; charset=utf-8" },
  "/pace.js": { file: "pace.js", type: "text/javascript; charset=utf-8" },
  "/sw.js": { file: "sw.js", type: "text/javascript; charset=utf-8" },
  "/manifest.webmanifest": { file: "manifest.webmanifest", type: "application/manifest+json" },
  "/icon-192.png": { file: "icon-192.png", type: "image/png" },
  "/icon-512.png": { file: "icon-512.png", type: "image/png" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  // Browsers ask /favicon.ico whatever the page says: both names serve the one SVG icon.
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
  "/favicon.ico": { file: "favicon.svg", type: "image/svg+xml" },
};

/** Images may come from TikTok's CDN when a result has no tunnel link for its cover. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' https: data:; media-src 'self'; script-src 'self'; style-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The folder holding `web/`, found upwards from this module (it runs from src/ or dist/src/). */
function webFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(folder, "package.json")) && existsSync(join(folder, "web", "index.html")))
      return join(folder, "web");
    folder = dirname(folder);
  }
  throw new Error("the web page's files (web/) are missing");
}

export function webRoutes(app: TypedApp) {
  const folder = webFolder();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(join(folder, file));
    app.get(path, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(type)
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("cache-control", "public, max-age=300")
        .send(body),
    );
  }
}
