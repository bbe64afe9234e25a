import type { AlertJson } from '../../engine/alerts/format.js';
import type { AlertInput } from '../../engine/alerts/spec.js';
import type { AlertFiring } from '../../engine/alerts/types.js';

/**
 * Alerts as the TUI shows them: the alerts where the session's engine runs, their firings, and
 * adding and removing. Embedded (embedded-alerts.ts) it wraps the AlertService on the node's bus;
 * a daemon client can implement it over /api/qtrade/alerts and the private alerts stream, so the
 * values are what those serve (alertJson, firingJson).
 */

/** An alert as alertJson gives it: times in ms, null where absent. */
export type AlertItem = AlertJson;

export type AlertsEvent =
  /** An alert fired (a test notification too): the toast, the bell. */
  | { kind: 'fired'; firing: AlertFiring }
  /** list() or history() may have changed. */
  | { kind: 'changed' }
  /** Something the trader should read: an alert that cannot run here, a delivery that failed. */
  | { kind: 'notice'; level: 'info' | 'warn' | 'error'; message: string };

export interface AlertsSource {
  /** Ring the terminal bell on a firing (the alerts.bell setting). */
  readonly bell: boolean;
  /** Alerts not removed, oldest first. */
  list(): AlertItem[];
  /** Firings, newest last (bounded). */
  history(): AlertFiring[];
  /** Validates and adds an alert; bad input throws a UsageError (a ConditionError points at the token). */
  add(input: AlertInput): Promise<AlertItem>;
  /** Removes an alert; an unknown id throws a UsageError. */
  remove(id: string): Promise<AlertItem>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (e: AlertsEvent) => void): () => void;
}
