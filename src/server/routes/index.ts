import type { DaemonContext, Route } from '../types.js';
import { binanceAccountRoutes } from './binance-account.js';
import { binanceMarketRoutes } from './binance-market.js';
import { qtradeAccountRoutes } from './qtrade-account.js';
import { qtradeStrategyRoutes } from './qtrade-strategies.js';
import { systemRoutes } from './system.js';

/** Every REST route of the daemon, in the order /openapi.json lists them. */
export function allRoutes(ctx: DaemonContext): Route[] {
  const routes: Route[] = [...(ctx ? [] : []), ...binanceMarketRoutes(ctx), ...binanceAccountRoutes(ctx), ...qtradeAccountRoutes(ctx), ...qtradeStrategyRoutes(ctx), ...systemRoutes(ctx, () => routes)];
  return routes;
}
