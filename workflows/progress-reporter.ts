/**
 * Coalesced progress signals from a child workflow to its parent: at most one every
 * `everyMs`, at once when `urgent()` turns true (e.g. "everything dispatched", which lets a
 * lower tier start), and a final one. Keeps parents' histories small (docs/design.md#temporal-limits).
 *
 * A signal that fails (the parent has closed) ends the loop instead of leaving a rejected
 * promise nobody awaits: an unhandled rejection fails the workflow task, which Temporal
 * retries forever, so the workflow would hang. `finish()` then fails with the reason.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';

export class ProgressReporter {
  private dirty = true;
  private finished = false;
  private failure: unknown;
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
    })().catch((err: unknown) => { this.failure = err; });
  }

  /** Something changed: send it with the next signal. */
  touch(): void {
    this.dirty = true;
  }

  /**
   * Send the final signal and wait until it is out.
   * @throws non-retryable ApplicationFailure `ProgressSignalFailed` when a signal failed
   */
  async finish(): Promise<void> {
    this.finished = true;
    await this.loop;
    if (this.failure !== undefined) {
      const reason = this.failure instanceof Error ? this.failure.message : String(this.failure);
      throw ApplicationFailure.create({ type: 'ProgressSignalFailed', message: `progress signal to the parent workflow failed: ${reason}`, nonRetryable: true, cause: this.failure instanceof Error ? this.failure : undefined });
    }
  }
}
