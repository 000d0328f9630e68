/**
 * The console's add-ons, in registration order (each a ConsolePlugin: routes plus an
 * optional page script). The one place to add one, e.g. the drill routes.
 */
import type { ConsolePlugin } from './context.js';
import { drillRoutes } from './drill-routes.js';

export const CONSOLE_PLUGINS: ConsolePlugin[] = [drillRoutes];
