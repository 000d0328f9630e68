/**
 * Reading a plan stored before its forecast (StoredPlan.pendingForecast, domain/plan-forecast.ts):
 * the stores look for the forecast at every read of such a plan, since another process may
 * have stored it since, and merge it in once found.
 */
import { withForecast, type PlanForecast } from '../domain/plan-forecast.js';
import { PlatformError } from './errors.js';
import type { StoredPlan } from './ports.js';

/**
 * `stored` with its forecast merged in (withForecast) when it waits for one and `readForecast`
 * finds it; `stored` itself when it does not wait for one or the forecast is not there yet
 * (`readForecast` threw PlatformError('not-found')).
 * @throws what `readForecast` throws otherwise (the store unavailable: retryable), or withForecast's Error
 */
export async function withStoredForecast(stored: StoredPlan, readForecast: () => Promise<PlanForecast>): Promise<StoredPlan> {
  if (!stored.pendingForecast) return stored;
  let forecast: PlanForecast;
  try {
    forecast = await readForecast();
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return stored;
    throw err;
  }
  return withForecast(stored, forecast);
}
