/** Running tunnels, bounded: a slot is taken before relaying and given back once, when the answer ends. */
export function createTunnelSlots(max: number) {
  let active = 0;
  return {
    get active() {
      return active;
    },
    /** A release function, or undefined when every slot is taken. */
    take(): (() => void) | undefined {
      if (active >= max) return undefined;
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
      };
    },
  };
}

export type TunnelSlots = ReturnType<typeof createTunnelSlots>;
