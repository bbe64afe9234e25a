import type { ServerResponse } from 'node:http';
import { Settings } from '../../config/resolve.js';
import { Assistant } from '../../engine/ai/assistant.js';
import { AiClient } from '../../engine/ai/client.js';
import { answerJson } from '../../engine/ai/answer-json.js';
import { aiConfigFrom, type AiConfig } from '../../engine/ai/config.js';
import { describeOrder, ProposalBook, type ProposalStatus } from '../../engine/ai/proposals.js';
import { createToolBox } from '../../engine/ai/tools.js';
import { nodeEngineView, type StoredBacktestRequest } from '../../engine/ai/view.js';
import { inProcessStoredBacktest } from '../backtest-summary.js';
import { QtradeError } from '../../engine/errors.js';
import type { Instrument } from '../../engine/market/types.js';
import { orderRequestFromText } from '../../engine/trading.js';
import { placedReplyToWire } from '../../client/wire.js';
import { intParam, jsonText, optionalParam, requiredParam } from '../http.js';
import { ApiError, ApiErrors, type ApiRequest, type DaemonContext, type Route } from '../types.js';
import { guarded } from './qtrade-account.js';

/**
 * POST /api/qtrade/ai: one question to the assistant over the daemon's live node. The answer
 * streams as NDJSON, one event per line — {type: reasoning|text, delta}, {type: tool_call|
 * tool_result, …}, then {type: done, answer, usage, cost, proposals, strategies} or {type: error,
 * code, message}. Scope `read`: the tools read the engine and at most record pending proposals,
 * which only a `trade` caller can turn into orders. A client that hangs up cancels the answer.
 */

const MAX_PROMPT = 8_000;
const MAX_HISTORY = 40;

export interface AiRouteOptions {
  /** The ai.* configuration (default: the settings from the environment and the config file). */
  config?: (overrides: { model?: string; thinking?: boolean }) => AiConfig;
}

function body(json: unknown): Record<string, unknown> {
  if (json === undefined) throw new ApiError(400, -1102, 'Send a JSON object body (Content-Type: application/json) with at least {"prompt": "..."}.');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw ApiErrors.badParam('body', 'expected a JSON object');
  const b = json as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['prompt', 'model', 'tools', 'thinking', 'history'].includes(k)) throw ApiErrors.badParam(k, 'not a field of this request (fields: prompt, model, tools, thinking, history)');
  return b;
}

function history(v: unknown): Array<{ role: 'user' | 'assistant'; content: string }> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_HISTORY) throw ApiErrors.badParam('history', `expected at most ${MAX_HISTORY} {role: "user"|"assistant", content} turns`);
  return v.map((t, i) => {
    const o = t as { role?: unknown; content?: unknown };
    if (typeof t !== 'object' || t === null || (o.role !== 'user' && o.role !== 'assistant') || typeof o.content !== 'string' || o.content.length > MAX_PROMPT) {
      throw ApiErrors.badParam(`history[${i}]`, `expected {role: "user"|"assistant", content: a string of at most ${MAX_PROMPT} characters}`);
    }
    return { role: o.role, content: o.content };
  });
}

function flag(b: Record<string, unknown>, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw ApiErrors.badParam(name, 'expected true or false');
  return v;
}


export function qtradeAiRoutes(ctx: DaemonContext, opts: AiRouteOptions = {}): Route[] {
  const configOf =
    opts.config ??
    ((over: { model?: string; thinking?: boolean }) => {
      const settings = new Settings();
      return aiConfigFrom((k) => settings.string(k), over);
    });
  return [
    {
      method: 'POST',
      path: '/api/qtrade/ai',
      scope: 'read',
      summary: 'Ask the assistant (JSON {prompt, model?, tools?, thinking?, history?}); the answer streams as NDJSON events ending with {type: "done"} or {type: "error"}',
      async handle(req) {
        const b = body(req.json);
        const prompt = b.prompt;
        if (typeof prompt !== 'string' || prompt.trim() === '') throw ApiErrors.mandatory('prompt');
        if (prompt.length > MAX_PROMPT) throw ApiErrors.badParam('prompt', `at most ${MAX_PROMPT} characters`);
        const model = b.model;
        if (model !== undefined && (typeof model !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/.test(model))) throw ApiErrors.badParam('model', 'expected a model name such as deepseek-flash');
        const tools = flag(b, 'tools') ?? true;
        const thinking = flag(b, 'thinking');
        const turns = history(b.history);
        let config: AiConfig;
        let client: AiClient;
        try {
          config = configOf({ ...(typeof model === 'string' ? { model } : {}), ...(thinking !== undefined ? { thinking } : {}) });
          client = new AiClient(config);
        } catch (err) {
          if (err instanceof QtradeError) throw ApiErrors.unavailable(`the daemon's assistant is not configured: ${err.message}${err.hint ? ` (${err.hint})` : ''}`);
          throw err;
        }
        const jobs = ctx.backtests;
        const view = {
          ...nodeEngineView(ctx.node, { fallbackNow: ctx.wallNow }),
          // Backtests run as the daemon's jobs, on worker threads, not on the thread that serves the feed.
          ...(jobs ? { storedBacktest: (r: StoredBacktestRequest) => inProcessStoredBacktest(jobs, r) } : {}),
        };
        const toolBox = tools
          ? createToolBox({ view, proposals: await ProposalBook.open(ctx.node.store), source: 'daemon', model: config.model, decisionClock: ctx.wallNow })
          : undefined;
        const assistant = new Assistant({ model: client, ...(toolBox ? { tools: toolBox } : {}) });
        assistant.addHistory(turns);
        return { stream: (res) => answer(ctx, res, assistant, prompt, config, req.principal.name ?? req.principal.kind) };
      },
    },
    ...proposalRoutes(ctx),
  ];
}

const STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected', 'expired', 'failed'];

/**
 * The assistant's order proposals: listing them is `read`; approving (which places the order on
 * the daemon's account, as POST /api/qtrade/orders does) and rejecting are `trade`. Proposals
 * wait for a person, so they expire and are decided on the daemon's local clock, as the CLI's.
 */
function proposalRoutes(ctx: DaemonContext): Route[] {
  let opening: Promise<ProposalBook> | undefined;
  // One book, brought up to date per request: proposals are made and decided by other processes too.
  const book = async (): Promise<ProposalBook> => {
    opening ??= ProposalBook.open(ctx.node.store).catch((err: unknown) => {
      opening = undefined;
      throw err;
    });
    const b = await opening;
    await b.refresh();
    return b;
  };
  const known = async (req: ApiRequest): Promise<{ b: ProposalBook; id: string }> => {
    const id = requiredParam(req, 'id');
    const b = await book();
    if (!b.get(id, ctx.wallNow())) throw new ApiError(404, -1000, `No proposal "${id}" (GET /api/qtrade/proposals lists them).`);
    return { b, id };
  };
  const who = (req: ApiRequest): string => req.principal.name ?? req.principal.tokenId ?? req.principal.kind;
  return [
    {
      method: 'GET',
      path: '/api/qtrade/proposals',
      scope: 'read',
      summary: "Orders the assistant proposed, newest first (id, order, rationale, status pending/approved/rejected/expired/failed, the placed order's id)",
      params: { status: `only this status (${STATUSES.join(', ')})`, limit: 'at most this many (default 50, at most 1000)' },
      handle: async (req) => {
        const status = optionalParam(req, 'status');
        if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw ApiErrors.badParam('status', `expected one of ${STATUSES.join(', ')}`);
        const limit = intParam(req, 'limit', { min: 1, max: 1000, fallback: 50 })!;
        const list = (await book()).list(ctx.wallNow()).filter((p) => status === undefined || p.status === status);
        return { body: list.slice(0, limit) };
      },
    },
    {
      method: 'POST',
      path: '/api/qtrade/proposals/{id}/approve',
      scope: 'trade',
      summary: "Approve a pending proposal: its order is placed on the daemon's paper account (client order id ai-<id>); answers {proposal, order, fills, duplicate, instruments}",
      params: { id: 'the proposal id, e.g. p12' },
      handle: guarded(async (req) => {
        const { b, id } = await known(req);
        const node = ctx.node;
        let inst: Instrument | undefined;
        const { proposal, placed } = await b.approve(
          id,
          ctx.wallNow(),
          (text) => {
            inst = node.instruments.get(text.symbol);
            return node.placeOrder(orderRequestFromText(inst, text));
          },
          (s) => node.instruments.get(s).qtyScale,
        );
        ctx.log.info({ proposal: proposal.id, orderId: placed.order.orderId, caller: who(req) }, `proposal ${proposal.id} approved: ${describeOrder(proposal.order)}`);
        return { body: { proposal, ...placedReplyToWire({ ...placed, instruments: [inst!] }) } };
      }),
    },
    {
      method: 'POST',
      path: '/api/qtrade/proposals/{id}/reject',
      scope: 'trade',
      summary: 'Reject a pending proposal (nothing is placed); JSON {reason?} or a reason parameter is kept with it',
      params: { id: 'the proposal id, e.g. p12', reason: 'why (at most 500 characters)' },
      handle: guarded(async (req) => {
        const { b, id } = await known(req);
        const j = req.json;
        const fromJson = typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as { reason?: unknown }).reason : undefined;
        if (fromJson !== undefined && typeof fromJson !== 'string') throw ApiErrors.badParam('reason', 'expected a string');
        const reason = (fromJson as string | undefined) ?? optionalParam(req, 'reason') ?? `rejected through the daemon by ${who(req)}`;
        if (reason.length > 500) throw ApiErrors.badParam('reason', 'at most 500 characters');
        const proposal = await b.reject(id, ctx.wallNow(), reason);
        ctx.log.info({ proposal: proposal.id, caller: who(req) }, `proposal ${proposal.id} rejected`);
        return { body: proposal };
      }),
    },
  ];
}

async function answer(ctx: DaemonContext, res: ServerResponse, assistant: Assistant, prompt: string, config: AiConfig, who: string): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  const ctl = new AbortController();
  let finished = false;
  res.on('close', () => {
    if (!finished) ctl.abort();
  });
  const send = (ev: unknown): void => {
    if (!res.destroyed) res.write(jsonText(ev) + '\n');
  };
  try {
    const a = await assistant.ask(prompt, { signal: ctl.signal, onEvent: send });
    send({ type: 'done', ...answerJson(a, config, ctx.wallNow()) });
    ctx.log.info({ ai: { model: config.model, calls: a.calls, usage: a.usage, tools: a.toolCalls.length, proposals: a.proposals.map((p) => p.id), caller: who } }, 'assistant answered');
  } catch (err) {
    const e = err instanceof QtradeError ? { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } : { code: 'INTERNAL', message: 'the assistant failed unexpectedly' };
    if (!(err instanceof QtradeError)) ctx.log.error({ err: (err as Error)?.message }, 'assistant failed');
    else ctx.log.warn({ ai: { model: config.model, code: err.code, caller: who } }, `assistant failed: ${err.message}`);
    send({ type: 'error', ...e });
  } finally {
    finished = true;
    res.end();
  }
}
