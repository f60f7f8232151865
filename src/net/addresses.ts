import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { SourceFailure } from "../domain/errors.js";

/** Ranges no upstream fetch may reach unless the operator allows it: loopback, private, link-local, … */
const PRIVATE_RANGES = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE_RANGES.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE_RANGES.addSubnet(network, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 4) return PRIVATE_RANGES.check(bare, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped?.[1]) return PRIVATE_RANGES.check(mapped[1], "ipv4");
    return PRIVATE_RANGES.check(bare, "ipv6");
  }
  return false;
}

/**
 * Refuses a host that is, or resolves to, a private address (for clients that resolve names themselves,
 * such as the browser-like one): checked before each request and each redirect hop.
 */
export async function refusePrivateHost(hostname: string): Promise<void> {
  const bare = hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(bare) ? [bare] : (await lookup(bare, { all: true })).map((entry) => entry.address);
  if (addresses.some(isPrivateAddress))
    throw new SourceFailure("refused_target", `refused to fetch a private address (${hostname})`);
}
