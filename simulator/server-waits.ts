/**
 * POST /waits: the wait-for-running long-polls of one client batched onto one request at a
 * time, as a Kubernetes client observes many objects through a few watches instead of holding
 * a connection per object. The client (platform/simulator-client/wait-batches.ts) names a
 * session (one per client) and sends the rounds it has not sent yet; each round is one
 * Simulator.waitForRunning (answered on the resource's next status change, at once when done
 * or failed, or after the round's hold). A poll is held until some round of its session has
 * an answer (answers of the same event-loop turn go together) or `holdSeconds` passed, and
 * returns every answer not yet delivered, whichever round or earlier poll it belongs to. A
 * new poll of a session answers the poll it held at once (superseded), so one client holds
 * one connection for all its waits, and a new wait is registered without waiting for a hold.
 *
 * Wire (JSON): request `{ session, rounds: [{ id, az, namespace, name, minGeneration,
 * restoring, holdSeconds }], holdSeconds }` → `{ answers: [{ id, status, done?, reason?,
 * evidence?, waitingFor? } | { id, error: ErrorBody }] }`. A round of an AZ under the
 * `apiDownAzs` fault answers `unavailable` (as every /az/<az>/… call does); a down AZ
 * answers `az-down`, an unknown one `not-found` (Simulator.assertUp, Simulator.cluster).
 * Sessions with nothing held, pending or undelivered are dropped; one not polled for
 * SESSION_IDLE_MS is dropped with its undelivered answers (its client went away).
 */
import { PlatformError } from '../platform/errors.js';
import { errorBody } from '../platform/simulator-client/http-errors.js';
import type { WaitPoll, WaitPollAnswer } from '../platform/simulator-client/wait-batches.js';
import type { Simulator } from './simulator.js';

/** One round of one wait, as the client sent it: answered once. */
export type WaitRound = WaitPoll['rounds'][number];

/** The answer of one round, as the client reads it. */
type WaitAnswer = WaitPollAnswer['answers'][number];

/** A session left without a poll this long (wall ms) is dropped with its undelivered answers. */
const SESSION_IDLE_MS = 120_000;

interface Session {
  /** Rounds registered and not answered yet. */
  pending: number;
  /** Answers not delivered yet. */
  ready: WaitAnswer[];
  /** Answers the poll held now, if any. */
  release?: () => void;
  polledAtMs: number;
}

/** The sessions of one simulator's POST /waits. */
export class WaitSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly sim: Simulator) {}

  /** Rounds registered and not answered yet, across sessions (GET /control/connections). */
  pendingRounds(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.pending;
    return n;
  }

  /**
   * One poll of `sessionId`: registers `rounds`, answers the session's held poll, holds until
   * an answer is ready or `holdSeconds` (wall) passed.
   * @returns the session's answers not delivered yet (possibly none)
   */
  async poll(sessionId: string, rounds: readonly WaitRound[], holdSeconds: number): Promise<WaitAnswer[]> {
    const now = Date.now();
    this.dropIdle(now);
    let s = this.sessions.get(sessionId);
    if (!s) {
      s = { pending: 0, ready: [], polledAtMs: now };
      this.sessions.set(sessionId, s);
    }
    s.polledAtMs = now;
    s.release?.();
    for (const r of rounds) this.register(s, r);
    const session = s;
    // The rounds' first checks settle in microtasks: a round already done answers this poll.
    await new Promise((resolve) => setImmediate(resolve));
    if (session.ready.length === 0) {
      await new Promise<void>((resolve) => {
        const release = (): void => {
          clearTimeout(timer);
          if (session.release === release) session.release = undefined;
          resolve();
        };
        const timer = setTimeout(release, holdSeconds * 1000);
        session.release?.(); // another poll of the session reached its hold first: it answers now
        session.release = release;
      });
    }
    // Answers of the same turn (one status change wakes many rounds) go in this poll.
    await new Promise((resolve) => setImmediate(resolve));
    const answers = session.ready;
    session.ready = [];
    if (session.pending === 0 && !session.release && this.sessions.get(sessionId) === session) this.sessions.delete(sessionId);
    return answers;
  }

  private register(s: Session, r: WaitRound): void {
    s.pending++;
    const answer = (a: WaitAnswer): void => {
      s.pending--;
      s.ready.push(a);
      s.release?.();
    };
    const failed = (err: unknown): void =>
      answer({ id: r.id, error: err instanceof PlatformError ? errorBody(err) : { code: 'failed', message: `simulator error: ${(err as Error).message}`, retryable: false } });
    if (this.sim.faults.apiDown(r.az)) {
      failed(new PlatformError('unavailable', `injected fault: API server of ${r.az} unavailable`, true));
      return;
    }
    this.sim.waitForRunning(r.az, r.namespace, r.name, r.minGeneration, r.holdSeconds * 1000, r.restoring).then((result) => answer({ id: r.id, ...result }), failed);
  }

  private dropIdle(now: number): void {
    for (const [id, s] of this.sessions) if (!s.release && now - s.polledAtMs > SESSION_IDLE_MS) this.sessions.delete(id);
  }
}
