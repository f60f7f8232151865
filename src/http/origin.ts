import type { FastifyRequest } from "fastify";
import ipaddr from "ipaddr.js";
import { ApiError } from "../domain/errors.js";
import type { Config } from "../service/config.js";

/**
 * This instance's origin, the base of the links it writes into feeds and signed feed links: `PUBLIC_URL`,
 * else the request's `Host` when the operator allowed it, or when both it and the client are on this
 * machine (a personal instance). Any other `Host` is refused: links built on a host a client made up
 * would be kept by a shared cache in front of us.
 */
export function publicOrigin(config: Pick<Config, "publicUrl" | "allowedHosts">) {
  const fixed = config.publicUrl;
  const allowed = new Set(config.allowedHosts);
  return (request: FastifyRequest): string => {
    if (fixed) return fixed;
    const host = request.host.toLowerCase();
    const local = isLoopbackName(request.hostname) && isLoopbackName(request.ip);
    if (allowed.has(host) || allowed.has(request.hostname.toLowerCase()) || local)
      return `${request.protocol}://${host}`;
    throw new ApiError(
      400,
      "HOST_NOT_ALLOWED",
      "This instance writes links only for its own address: its operator sets PUBLIC_URL (or ALLOWED_HOSTS).",
    );
  };
}

/** Whether a host name or address is this machine's own (`localhost`, 127/8, ::1). */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  return ipaddr.isValid(name) && ipaddr.process(name).range() === "loopback";
}
