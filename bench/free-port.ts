import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";

/** A port nothing listens on now, for a service the bench starts with its own PORT. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}
