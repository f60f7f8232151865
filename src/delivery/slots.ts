/**
 * Running tunnels, bounded in all and per client: a slot is taken before relaying and given back once,
 * when the answer ends. One client cannot hold every slot.
 */
export function createTunnelSlots(max: number, maxPerClient: number) {
  let active = 0;
  const perClient = new Map<string, number>();
  return {
    get active() {
      return active;
    },
    /** A release function, or why no slot was given: every slot is taken, or this client's are. */
    take(client: string): (() => void) | "busy" | "client-busy" {
      const mine = perClient.get(client) ?? 0;
      if (mine >= maxPerClient) return "client-busy";
      if (active >= max) return "busy";
      active++;
      perClient.set(client, mine + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      };
    },
  };
}

export type TunnelSlots = ReturnType<typeof createTunnelSlots>;
