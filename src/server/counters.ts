import type { ServerCounters } from './types.js';

/** The HTTP/WS layer's own counters (the engine's come from kernel.stats()). */
export class Counters implements ServerCounters {
  /** `METHOD path` → status → count. */
  readonly requests = new Map<string, Map<number, number>>();
  clients = 0;
  readonly dropped = new Map<string, number>();

  request(route: string, status: number): void {
    let m = this.requests.get(route);
    if (!m) this.requests.set(route, (m = new Map()));
    m.set(status, (m.get(status) ?? 0) + 1);
  }

  wsClients(delta: number): void {
    this.clients += delta;
  }

  wsDropped(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }
}
