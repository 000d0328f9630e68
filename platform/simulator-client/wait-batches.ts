/**
 * The client half of the simulator's POST /waits (simulator/server-waits.ts): every
 * wait-for-running round of one SimulatorClient rides one held request at a time, as a
 * Kubernetes client observes many objects through a few watches instead of holding a
 * connection per object. A round is one long-poll of one job (answered on its next status
 * change, at once when done or failed, or after its hold). Rounds not sent yet go out in the
 * next poll, sent on the next turn of the event loop; the server answers the poll it held
 * at once when a new one arrives, so at most MAX_POLLS_IN_FLIGHT polls (connections) are in
 * flight whatever the number of waits, and a new wait does not wait for a hold.
 *
 * Errors: a poll that fails (no answer, 5xx, 429) fails the rounds it carried with that
 * PlatformError, named after each round's `what`, and the next poll waits its Retry-After (or
 * 0.5 s); rounds registered by an earlier poll stay pending. A round without an answer within
 * its hold + ROUND_GRACE_MS fails 'timeout' (retryable): its answer was lost with a poll. The
 * server's per-round errors (az-down, not-found, an AZ under the apiDownAzs fault) are rebuilt
 * as PlatformErrors by ./http-errors.ts.
 */
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../errors.js';
import type { DeploymentStatus } from '../ports.js';
import type { RestoreEvidence } from '../../domain/restore-verdict.js';
import { errorFromResponse, statusOf, type ErrorBody } from './http-errors.js';

/** One round of one wait. `holdSeconds`: wall seconds the server may hold it (0–60). */
export interface WaitRoundRequest {
  az: string;
  namespace: string;
  name: string;
  minGeneration: number;
  restoring: boolean;
  holdSeconds: number;
}

/** A round's answer: the resource's status and the verdict on it (domain/restore-verdict.ts). */
export interface WaitRoundAnswer {
  status: DeploymentStatus | null;
  done?: 'running' | 'failed';
  reason?: string;
  evidence?: RestoreEvidence;
  waitingFor?: string;
}

/** The wire body of POST /waits and its answer. */
export interface WaitPoll {
  session: string;
  rounds: (WaitRoundRequest & { id: string })[];
  holdSeconds: number;
}
export type WaitPollAnswer = { answers: ((WaitRoundAnswer & { id: string }) | { id: string; error: ErrorBody })[] };

/** Polls in flight at once: the held one and the one superseding it. */
const MAX_POLLS_IN_FLIGHT = 2;
/** Longest the server holds a poll, wall seconds (a round's own hold ends it sooner). */
const POLL_HOLD_SECONDS = 20;
/** How long past its hold a round may wait for its answer, wall ms (the old per-job long-poll's margin). */
const ROUND_GRACE_MS = 15_000;

interface OpenRound {
  what: string;
  resolve: (a: WaitRoundAnswer) => void;
  reject: (err: unknown) => void;
}

/** The batched wait rounds of one client. */
export class WaitBatches {
  private readonly session = randomUUID();
  private seq = 0;
  private readonly open = new Map<string, OpenRound>();
  private unsent: (WaitRoundRequest & { id: string })[] = [];
  private inFlight = 0;
  private scheduled = false;
  private retryAtMs = 0;

  /**
   * @param post sends one poll (POST /waits) and returns its answer; it rejects with a
   *   PlatformError when the poll got none; `timeoutMs` bounds it
   */
  constructor(private readonly post: (poll: WaitPoll, timeoutMs: number) => Promise<WaitPollAnswer>) {}

  /**
   * One round of one wait (the old GET …/wait long-poll, batched).
   * @param what names the wait in errors, e.g. `wait for az-b ns/job RUNNING`
   * @throws PlatformError of the poll or the round (see the file's doc); `signal.reason` when aborted
   */
  round(r: WaitRoundRequest, what: string, signal?: AbortSignal): Promise<WaitRoundAnswer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = String(++this.seq);
    return new Promise<WaitRoundAnswer>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.open.delete(id);
      };
      const onAbort = (): void => {
        settle();
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new PlatformError('timeout', `${what}: no answer in time`, true));
      }, r.holdSeconds * 1000 + ROUND_GRACE_MS);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.open.set(id, {
        what,
        resolve: (a) => {
          settle();
          resolve(a);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      });
      this.unsent.push({ ...r, id });
      this.schedule(0);
    });
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.send();
    };
    if (delayMs > 0) setTimeout(run, delayMs);
    else setImmediate(run);
  }

  /** Send a poll when rounds wait to be sent, or when none is in flight while rounds wait for answers. */
  private send(): void {
    const needed = this.unsent.length > 0 ? this.inFlight < MAX_POLLS_IN_FLIGHT : this.inFlight === 0 && this.open.size > 0;
    if (!needed) return;
    const wait = this.retryAtMs - Date.now();
    if (wait > 0) {
      this.schedule(wait);
      return;
    }
    const rounds = this.unsent.filter((r) => this.open.has(r.id));
    this.unsent = [];
    this.inFlight++;
    this.post({ session: this.session, rounds, holdSeconds: POLL_HOLD_SECONDS }, (POLL_HOLD_SECONDS * 1000) + ROUND_GRACE_MS)
      .then(
        (answer) => {
          for (const a of answer.answers) {
            const open = this.open.get(a.id);
            if (!open) continue; // timed out or aborted meanwhile
            if ('error' in a) open.reject(errorFromResponse(statusOf(a.error.code), a.error, open.what));
            else {
              const { id: _id, ...rest } = a;
              open.resolve(rest);
            }
          }
        },
        (err: unknown) => {
          const e = err instanceof PlatformError ? err : new PlatformError('unavailable', String(err), true);
          for (const r of rounds) {
            const open = this.open.get(r.id);
            open?.reject(new PlatformError(e.code, `${open.what}: ${e.message}`, e.retryable, e.retryAfterSeconds));
          }
          this.retryAtMs = Date.now() + (e.retryAfterSeconds ?? 0.5) * 1000;
        },
      )
      .finally(() => {
        this.inFlight--;
        this.schedule(0);
      });
  }
}
