import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";
import { SourceFailure } from "../domain/errors.js";

/**
 * Whether an upstream fetch must not reach this address (unless the operator allows private upstreams):
 * everything that is not public unicast in IANA's special-purpose registries (ipaddr.js ranges: private,
 * loopback, link-local, carrier-grade NAT, TEST-NETs, benchmarking, multicast, reserved, …), addresses
 * that carry an IPv4 one (mapped, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4, Teredo), and
 * this machine's own addresses, public ones included.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!ipaddr.isValid(bare) || isIP(bare) === 0) return false;
  let parsed = ipaddr.parse(bare);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  // ::/96 (IPv4-compatible, deprecated) holds an IPv4 address that ipaddr.js would call unicast.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0))
    return true;
  return parsed.range() !== "unicast" || ownAddresses().has(parsed.toNormalizedString());
}

/** The addresses of this machine's interfaces, normalised (read each time: interfaces come and go). */
function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const entries of Object.values(networkInterfaces()))
    for (const entry of entries ?? []) {
      const bare = entry.address.replace(/%.*$/, "");
      if (ipaddr.isValid(bare)) own.add(ipaddr.parse(bare).toNormalizedString());
    }
  return own;
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
