/**
 * A one-line progress bar for long commands, drawn on a TTY stream (stderr) and redrawn at
 * most ~10 times a second. Commands only create one when the stream is a terminal and the
 * user did not ask for --json, so pipes and logs never see carriage returns.
 */

export interface ProgressOptions {
  stream: { write(s: string): boolean; columns?: number };
  label: string;
  /** Minimum time between redraws, ms. */
  minIntervalMs?: number;
  /** Wall clock for throttling (injectable for tests). */
  now?: () => number;
}

/** `label [#####.....]  45% detail`, cut to `columns`. */
export function renderProgress(label: string, fraction: number, detail: string, columns = 80): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const pct = `${Math.floor(f * 100)}%`.padStart(4);
  const barWidth = Math.max(10, Math.min(40, columns - label.length - pct.length - detail.length - 6));
  const filled = Math.round(f * barWidth);
  const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${pct}${detail ? ` ${detail}` : ''}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

export class Progress {
  private last = -Infinity;
  private shown = false;
  private readonly minInterval: number;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions) {
    this.minInterval = opts.minIntervalMs ?? 100;
    this.now = opts.now ?? Date.now;
  }

  update(fraction: number, detail = '', force = false): void {
    const t = this.now();
    if (!force && t - this.last < this.minInterval) return;
    this.last = t;
    this.shown = true;
    this.opts.stream.write(`\r\x1b[2K${renderProgress(this.opts.label, fraction, detail, this.opts.stream.columns || 80)}`);
  }

  /** Clears the bar so the summary line starts clean. */
  done(): void {
    if (this.shown) this.opts.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
