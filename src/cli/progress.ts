/**
 * Download progress. On a terminal, one live line per running download (a bar, size and speed), redrawn
 * in place however many run at once; elsewhere, plain lines ("downloading …", "saved …").
 */
export class Progress {
  private readonly running: Task[] = [];
  /** How many live lines are on the screen below the text already written. */
  private drawn = 0;
  private lastPaint = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  private get live() {
    return this.out.isTTY === true;
  }

  start(name: string, total: number | undefined) {
    const task: Task = { name, total, done: 0, started: Date.now() };
    if (this.live) {
      this.running.push(task);
      this.paint([]);
    } else this.out.write(`downloading ${name}${total ? ` (${formatBytes(total)})` : ""}\n`);
    return {
      advance: (bytes: number) => {
        task.done += bytes;
        if (this.live && Date.now() - this.lastPaint > 100) this.paint([]);
      },
      finish: () => {
        const seconds = ((Date.now() - task.started) / 1000).toFixed(1);
        this.end(
          task,
          this.live ? lineOf(task) : `saved ${name} (${formatBytes(task.done)} in ${seconds} s)`,
        );
      },
      fail: () => this.end(task, `failed ${name}`),
    };
  }

  /** A line of its own (a wait, a notice), above the running downloads. */
  note(line: string) {
    if (!this.live) return void this.out.write(`${line}\n`);
    this.paint([line]);
  }

  private end(task: Task, line: string) {
    if (!this.live) return void this.out.write(`${line}\n`);
    this.running.splice(this.running.indexOf(task), 1);
    this.paint([line]);
  }

  /** Rewrites the live block: lines that are final go above it, then one line per running download. */
  private paint(final: string[]) {
    this.lastPaint = Date.now();
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const line of [...final, ...this.running.map(lineOf)]) text += `\r\x1b[2K${line}\n`;
    // Lines left over from a block that shrank are cleared.
    for (let extra = final.length + this.running.length; extra < this.drawn; extra++) text += "\r\x1b[2K\n";
    const leftover = Math.max(0, this.drawn - final.length - this.running.length);
    if (leftover > 0) text += `\x1b[${leftover}A`;
    this.out.write(text);
    this.drawn = this.running.length;
  }
}

interface Task {
  name: string;
  total: number | undefined;
  done: number;
  started: number;
}

const NAME_WIDTH = 40;

/** A file name fitted to the column: a long one loses its middle, never its extension. */
export function fitName(name: string, width = NAME_WIDTH): string {
  if (name.length <= width) return name.padEnd(width);
  const extension = /\.[a-z0-9]{1,5}$/i.exec(name)?.[0] ?? "";
  const tail = name.slice(name.length - extension.length - 6);
  return `${name.slice(0, width - tail.length - 1)}…${tail}`;
}

function lineOf(task: Task): string {
  const seconds = Math.max((Date.now() - task.started) / 1000, 0.001);
  const speed = `${formatBytes(task.done / seconds)}/s`;
  const size = task.total ? `${formatBytes(task.done)} / ${formatBytes(task.total)}` : formatBytes(task.done);
  const percent = task.total ? Math.min(100, Math.floor((task.done / task.total) * 100)) : undefined;
  const bar =
    percent === undefined
      ? ""
      : `[${"#".repeat(Math.round(percent / 5)).padEnd(20, " ")}] ${String(percent).padStart(3)}% `;
  return `${fitName(task.name)} ${bar}${size}  ${speed}`;
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
