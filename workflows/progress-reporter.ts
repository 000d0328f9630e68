/**
 * Coalesced progress signals from a child workflow to its parent: at most one every
 * `everyMs`, at once when `urgent()` turns true (e.g. "everything dispatched", which lets a
 * lower tier start), and a final one. Keeps parents' histories small (docs/design.md#temporal-limits).
 */
import { condition } from '@temporalio/workflow';

export class ProgressReporter {
  private dirty = true;
  private finished = false;
  private readonly loop: Promise<void>;

  /**
   * @param send sends one progress signal; `final` on the last one
   * @param everyMs longest wait between two signals while something changed, ms
   * @param urgent when it turns true, the next signal goes out without waiting
   */
  constructor(send: (final: boolean) => Promise<void>, everyMs: number, urgent: () => boolean = () => false) {
    this.loop = (async () => {
      for (;;) {
        await condition(() => this.dirty || this.finished);
        this.dirty = false;
        const final = this.finished;
        const wasUrgent = urgent();
        await send(final);
        if (final) return;
        await condition(() => this.finished || (!wasUrgent && urgent()), everyMs);
      }
    })();
  }

  /** Something changed: send it with the next signal. */
  touch(): void {
    this.dirty = true;
  }

  /** Send the final signal and wait until it is out. */
  async finish(): Promise<void> {
    this.finished = true;
    await this.loop;
  }
}
