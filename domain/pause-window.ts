/**
 * Pause windows of scheduled rehearsals (a change freeze, a peak sale): an interval of UTC
 * time in which a schedule must not start a drill, turned into the calendar entries of a
 * Temporal ScheduleSpec's `skip` list (a scheduled time is skipped when it matches one).
 * Pure.
 *
 * Temporal's calendar fields default to 0 for second, minute and hour (docs: ScheduleSpec
 * `skip`, "all aspects of the CalendarSpec, including seconds, must match"), so every entry
 * names its minutes and hours explicitly; seconds stay 0 (cron times start on the minute).
 */

/** Month names as Temporal's CalendarSpec spells them. */
const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;

/** A range of values, inclusive at both ends. */
interface Span { start: number; end: number }

/** One skip entry (structurally a Temporal CalendarSpec). */
export interface SkipCalendar {
  year: number;
  month: (typeof MONTHS)[number];
  dayOfMonth: Span;
  hour: Span | '*';
  minute: Span | '*';
  comment: string;
}

/** A parsed pause window, epoch ms, `from` inclusive, `to` exclusive. */
export interface PauseWindow { fromMs: number; toMs: number; text: string }

/** Longest pause window accepted, days. */
const MAX_DAYS = 366;
const MINUTE = 60_000;
const DAY = 1440 * MINUTE;

/**
 * Parses `FROM/TO` (ISO-8601 times with a zone, e.g. `2026-12-20T00:00Z/2027-01-04T00:00Z`).
 * @throws Error naming the value and the fix when either end is not a time, TO is not after
 *   FROM, the window is longer than 366 days, or an end is not on a whole minute
 */
export function parsePauseWindow(text: string): PauseWindow {
  const parts = text.split('/');
  const fix = 'write FROM/TO as ISO-8601 UTC times, e.g. 2026-12-20T00:00Z/2027-01-04T00:00Z';
  if (parts.length !== 2) throw new Error(`pause window '${text}' is not FROM/TO. Fix: ${fix}`);
  const [fromMs, toMs] = parts.map((p) => (/\d{4}-\d\d-\d\dT\d\d:\d\d.*(Z|[+-]\d\d:?\d\d)$/.test(p.trim()) ? Date.parse(p.trim()) : NaN)) as [number, number];
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw new Error(`pause window '${text}': an end is not a time with a zone. Fix: ${fix}`);
  if (toMs <= fromMs) throw new Error(`pause window '${text}': TO is not after FROM. Fix: swap them`);
  if (toMs - fromMs > MAX_DAYS * DAY) throw new Error(`pause window '${text}' is longer than ${MAX_DAYS} days. Fix: pause the schedule instead (az-evac schedule pause)`);
  if (fromMs % MINUTE !== 0 || toMs % MINUTE !== 0) throw new Error(`pause window '${text}': schedules run on whole minutes. Fix: give both ends without seconds`);
  return { fromMs, toMs, text };
}

/**
 * The skip entries covering exactly the minutes of `w` (UTC): per day, whole days merged
 * into one day-of-month range per month, partial days as at most three entries (the first
 * partial hour, the whole hours, the last partial hour).
 */
export function pauseWindowCalendars(w: PauseWindow): SkipCalendar[] {
  const out: SkipCalendar[] = [];
  const comment = `pause window ${w.text}`;
  const at = (dayMs: number) => {
    const d = new Date(dayMs);
    return { year: d.getUTCFullYear(), month: MONTHS[d.getUTCMonth()]!, day: d.getUTCDate(), comment };
  };
  for (let day = Math.floor(w.fromMs / DAY) * DAY; day < w.toMs; day += DAY) {
    const s = (Math.max(w.fromMs, day) - day) / MINUTE;
    const e = (Math.min(w.toMs, day + DAY) - day) / MINUTE;
    const { year, month, day: dom } = at(day);
    if (s === 0 && e === 1440) {
      const last = out[out.length - 1];
      if (last && last.year === year && last.month === month && last.hour === '*' && last.dayOfMonth.end === dom - 1) last.dayOfMonth.end = dom;
      else out.push({ year, month, dayOfMonth: { start: dom, end: dom }, hour: '*', minute: '*', comment });
      continue;
    }
    const entry = (hour: Span | '*', minute: Span | '*'): void => { out.push({ year, month, dayOfMonth: { start: dom, end: dom }, hour, minute, comment }); };
    const h0 = Math.floor(s / 60);
    const h1 = Math.floor(e / 60);
    if (h0 === h1) { entry({ start: h0, end: h0 }, { start: s % 60, end: (e % 60) - 1 }); continue; }
    let wholeFrom = h0;
    if (s % 60 !== 0) { entry({ start: h0, end: h0 }, { start: s % 60, end: 59 }); wholeFrom = h0 + 1; }
    if (h1 > wholeFrom) entry({ start: wholeFrom, end: h1 - 1 }, '*');
    if (e % 60 !== 0) entry({ start: h1, end: h1 }, { start: 0, end: (e % 60) - 1 });
  }
  return out;
}

/** Whether epoch ms `t` falls in one of `calendars` (the rule Temporal applies to scheduled times; for tests and `schedule list`). */
export function inPauseWindow(calendars: readonly SkipCalendar[], t: number): boolean {
  const d = new Date(t);
  const within = (v: number, r: Span | '*'): boolean => r === '*' || (v >= r.start && v <= r.end);
  return d.getUTCSeconds() === 0 && calendars.some((c) => c.year === d.getUTCFullYear() && c.month === MONTHS[d.getUTCMonth()]
    && within(d.getUTCDate(), c.dayOfMonth) && within(d.getUTCHours(), c.hour) && within(d.getUTCMinutes(), c.minute));
}
