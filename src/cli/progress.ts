/** Download progress: a live bar with speed and size on a terminal, plain lines otherwise. */
export class Progress {
  constructor(
    private readonly out: NodeJS.WriteStream,
    /** Live redrawing works for one download at a time. */
    private readonly single: boolean,
  ) {}

  start(name: string, total: number | undefined) {
    const live = this.single && this.out.isTTY === true;
    const started = Date.now();
    let done = 0;
    let lastDraw = 0;
    const draw = (final = false) => {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const speed = `${formatBytes(done / seconds)}/s`;
      const size = total ? `${formatBytes(done)} / ${formatBytes(total)}` : formatBytes(done);
      const percent = total ? Math.min(100, Math.floor((done / total) * 100)) : undefined;
      const bar =
        percent === undefined
          ? ""
          : `[${"#".repeat(Math.round(percent / 5)).padEnd(20, " ")}] ${String(percent).padStart(3)}% `;
      this.out.write(`\r${name.slice(0, 40).padEnd(40)} ${bar}${size}  ${speed}${final ? "\n" : ""}`);
    };
    if (!live) this.out.write(`downloading ${name}${total ? ` (${formatBytes(total)})` : ""}\n`);
    return {
      advance: (bytes: number) => {
        done += bytes;
        if (live && Date.now() - lastDraw > 100) {
          lastDraw = Date.now();
          draw();
        }
      },
      finish: () => {
        if (live) draw(true);
        else
          this.out.write(
            `saved ${name} (${formatBytes(done)} in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
          );
      },
      fail: () => {
        if (live) this.out.write("\n");
        this.out.write(`failed ${name}\n`);
      },
    };
  }
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
