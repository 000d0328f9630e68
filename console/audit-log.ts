/**
 * The console's audit log: one JSON object per line (who, role, what, when, evacuation id,
 * outcome, reason), appended to a file so it survives restarts. Writes are serialized so
 * lines never interleave. Tokens never reach it: entries carry user names only.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditEntry, Identity } from './context.js';

/** One line of the log. `at` is ISO-8601 UTC. */
export type AuditLine = AuditEntry & { at: string; user: string; role: Identity['role'] };

export class AuditLog {
  private tail: Promise<void> = Promise.resolve();

  /** @param file the JSON-lines file (created with its directory on first append) */
  constructor(readonly file: string) {}

  /** Append one entry for `who`; resolves when the line is on disk (appended, not fsynced). */
  append(who: Identity, entry: AuditEntry): Promise<void> {
    const line: AuditLine = { at: new Date().toISOString(), user: who.user, role: who.role, ...entry };
    const write = this.tail.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, `${JSON.stringify(line)}\n`, { encoding: 'utf8', mode: 0o600 });
    });
    this.tail = write.catch(() => undefined);
    return write;
  }
}
