// Run from source (tsx), a worker thread does not inherit tsx's loader: this entry registers it, then
// loads the TypeScript worker. The built package starts pow-worker.js directly and never reads this file.
import { register } from "tsx/esm/api";

register();
await import("./pow-worker.ts");
