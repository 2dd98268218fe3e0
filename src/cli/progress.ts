/** Throttled progress lines on stderr. */
import type { CliIo } from './command.ts';

/**
 * Minimum time between progress lines: a terminal redraws one line often enough to look live,
 * a log file gets a line every few seconds instead of thousands.
 */
const TTY_INTERVAL_MS = 200;
const LOG_INTERVAL_MS = 5000;

export class Progress {
  private last = 0;
  private readonly start = performance.now();
  private drawn = false;

  constructor(private readonly io: CliIo) {}

  /** Reports `text` at overall fraction f (0..1) unless a line was written very recently. */
  update(text: string, fraction: number, force = false): void {
    const now = performance.now();
    const interval = this.io.errIsTty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS;
    if (!force && now - this.last < interval) return;
    this.last = now;
    const elapsed = (now - this.start) / 1000;
    const pct = (100 * fraction).toFixed(1).padStart(5);
    let eta = '';
    if (fraction > 0.02 && fraction < 1)
      eta = `, about ${formatSeconds((elapsed / fraction) * (1 - fraction))} left`;
    const line = `${pct}% ${text} (${formatSeconds(elapsed)}${eta})`;
    if (this.io.errIsTty) {
      this.io.err(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.io.err(line + '\n');
    }
  }

  /** Ends a redrawn terminal line so the next output starts on its own line. */
  done(): void {
    if (this.drawn) this.io.err('\n');
    this.drawn = false;
  }
}

export function formatSeconds(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
