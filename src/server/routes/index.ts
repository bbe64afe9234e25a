import type { DaemonContext, Route } from '../types.js';
import { binanceAccountRoutes } from './binance-account.js';
import { binanceMarketRoutes } from './binance-market.js';
import { qtradeAccountRoutes } from './qtrade-account.js';
import { qtradeAlertRoutes } from './qtrade-alerts.js';
import { qtradeAiRoutes } from './qtrade-ai.js';
import { qtradeFeedRoutes } from './qtrade-feed.js';
import { qtradeStrategyRoutes } from './qtrade-strategies.js';
import { systemRoutes } from './system.js';

/** Every REST route of the daemon, in the order /openapi.json lists them. */
export function allRoutes(ctx: DaemonContext): Route[] {
  const routes: Route[] = [...binanceMarketRoutes(ctx), ...binanceAccountRoutes(ctx), ...qtradeAccountRoutes(ctx), ...qtradeFeedRoutes(ctx), ...qtradeStrategyRoutes(ctx), ...qtradeAlertRoutes(ctx), ...qtradeAiRoutes(ctx), ...systemRoutes(ctx, () => routes)];
  return routes;
}
