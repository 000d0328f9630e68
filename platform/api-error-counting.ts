/**
 * Counting failed platform calls for /metrics (az_evac_platform_api_errors_total): the
 * composition root (worker/build.ts) wraps each port it hands to activities, so every call an
 * activity makes to the Kubernetes API servers, the S3 object stores or the simulator that
 * rejects is counted once per attempt (an attempt retried in the call, platform/transient-retry.ts,
 * or by Temporal counts again), by the adapter, the AZ, the port method and the error's class.
 */
import { PlatformError } from './errors.js';
import type { PlatformApiError } from './ports.js';

/**
 * `port` with every method call counted when it rejects (or throws): `record` receives the
 * platform, the AZ (the call's first argument when it is a string, as every per-AZ port method
 * takes it; '' otherwise), the method name and the PlatformError's code ('unclassified' for any
 * other error). A call cancelled by its AbortSignal (an activity cancelled) is not a failure
 * and is not counted. Results and errors pass through unchanged; `record` must not throw.
 * @param port a ClusterPort, ObjectStorePort or FleetSource (any object of methods)
 */
export function countingApiErrors<T extends object>(port: T, platform: PlatformApiError['platform'], record: (error: PlatformApiError) => void): T {
  const count = (method: string, args: unknown[], err: unknown): void => {
    if (err instanceof Error && err.name === 'AbortError') return;
    record({ platform, az: typeof args[0] === 'string' ? args[0] : '', operation: method, class: err instanceof PlatformError ? err.code : 'unclassified' });
  };
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          count(prop, args, err);
          throw err;
        }
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          count(prop, args, err);
          throw err;
        });
      };
    },
  });
}
