/** What a slot relays: a downloaded file, or a picture of a listing (a page's grid shows many at once). */
export type SlotKind = "file" | "picture";

/**
 * Running tunnels, bounded in all and per client: a slot is taken before relaying and given back once,
 * when the answer ends. One client cannot hold every slot. A client's files and its pictures are counted
 * apart (a grid's covers are not downloads), within the one bound on every running tunnel.
 */
export function createTunnelSlots(max: number, maxPerClient: Record<SlotKind, number>) {
  let active = 0;
  const perClient = new Map<string, number>();
  return {
    get active() {
      return active;
    },
    /** A release function, or why no slot was given: every slot is taken, or this client's are. */
    take(client: string, kind: SlotKind = "file"): (() => void) | "busy" | "client-busy" {
      const key = `${kind}:${client}`;
      const mine = perClient.get(key) ?? 0;
      if (mine >= maxPerClient[kind]) return "client-busy";
      if (active >= max) return "busy";
      active++;
      perClient.set(key, mine + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
        const left = (perClient.get(key) ?? 1) - 1;
        if (left > 0) perClient.set(key, left);
        else perClient.delete(key);
      };
    },
  };
}

export type TunnelSlots = ReturnType<typeof createTunnelSlots>;
