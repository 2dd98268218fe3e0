/** Items per second and time left, smoothed so the numbers on screen do not jitter. */
export class Throughput {
  #last = performance.now();
  #rate = 0;

  /**
   * Weight of the newest interval in the moving average. 0.3 settles within ~5 updates after
   * a change of pace (embedding batches arrive about once a second) without jumping around.
   */
  static readonly SMOOTHING = 0.3;

  /** Record that `n` more items finished now. */
  add(n: number): void {
    const now = performance.now();
    const dt = (now - this.#last) / 1000;
    this.#last = now;
    if (dt <= 0) return;
    const r = n / dt;
    this.#rate = this.#rate === 0 ? r : this.#rate + Throughput.SMOOTHING * (r - this.#rate);
  }

  /** Set the rate directly (when a worker already measures it). */
  set(rate: number): void {
    this.#rate = rate;
  }

  perSecond(): number {
    return this.#rate;
  }

  /** Seconds left for `remaining` items; null until a rate is known. */
  eta(remaining: number): number | null {
    if (remaining <= 0) return 0;
    return this.#rate > 0 ? remaining / this.#rate : null;
  }
}
