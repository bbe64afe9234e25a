/**
 * Price, indicator and account alerts evaluated on the engine's bus, on exchange event time
 * (engine.ts), stored durably with their firing history (log.ts), written as a small condition
 * language (parse.ts). Delivery (webhooks, Telegram, the outbox) is the edge's: src/notify.
 */
export type { Alert, AlertFiring, AlertMode, AlertRecord, AlertSpec, AlertStatus, NotifyChannel } from './types.js';
export { NOTIFY_CHANNELS, alertStatus, durationText, modeText } from './types.js';
export type { Condition, Cmp, LevelCmp } from './condition.js';
export { parseCondition, type ParseContext } from './parse.js';
export { ConditionError, CONDITION_FORMS } from './errors.js';
export { AlertEngine, type AccountView, type AlertEngineOptions, type AlertRuntime } from './engine.js';
export { AlertLog, ALERTS_STREAM, type AlertLogEvent } from './log.js';
export { AlertService, type AlertServiceOptions, type AlertView } from './service.js';
export { alertSpecFrom, parseAlertDuration, parseMode, parseNotify, alertSymbol, type AlertInput } from './spec.js';
export { alertJson, alertLine, firingJson, firingLine, utcMillis } from './format.js';
