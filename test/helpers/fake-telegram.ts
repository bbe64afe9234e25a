import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Telegram Bot API on 127.0.0.1: sendMessage records what was sent, getUpdates
 * long-polls a queue the test fills with pushMessage. Answers exactly as Telegram shapes them
 * ({ok, result} / {ok: false, error_code, description}); a wrong token gets 401.
 */
export interface FakeTelegram {
  /** Base URL to configure as telegram.apiUrl. */
  apiUrl: string;
  token: string;
  sent: Array<{ chat_id: string | number; text: string }>;
  /** Every request path, as received (the tests check the token stays in it and nowhere else). */
  calls: string[];
  pushMessage(chatId: number, text: string): void;
  /** Fails the next `n` sendMessage calls with this HTTP status (429 carries retry_after 0). */
  failSends(status: number, n: number): void;
  waitForSent(n: number, timeoutMs?: number): Promise<FakeTelegram['sent']>;
  close(): Promise<void>;
}

export async function startFakeTelegram(opts: { token?: string } = {}): Promise<FakeTelegram> {
  const token = opts.token ?? '123456789:AAtest_token_for_qtrade_tests_only';
  const sent: FakeTelegram['sent'] = [];
  const calls: string[] = [];
  const updates: Array<{ update_id: number; message: unknown }> = [];
  let nextUpdate = 1;
  let nextMessage = 1;
  const failures: number[] = [];
  const polls = new Set<() => void>();
  const waiters = new Set<() => void>();
  const wake = (set: Set<() => void>): void => {
    for (const w of [...set]) w();
  };
  const answer = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push(req.url ?? '');
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
      if (!m) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      if (m[1] !== token) return answer(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      let params: Record<string, unknown> = {};
      try {
        params = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
      }
      if (m[2] === 'sendMessage') {
        const fail = failures.shift();
        if (fail !== undefined) return answer(res, fail, { ok: false, error_code: fail, description: fail === 429 ? 'Too Many Requests: retry after 0' : 'Internal Server Error', ...(fail === 429 ? { parameters: { retry_after: 0 } } : {}) });
        if (typeof params.text !== 'string' || params.text.length === 0) return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
        sent.push({ chat_id: params.chat_id as string, text: params.text });
        wake(waiters);
        return answer(res, 200, { ok: true, result: { message_id: nextMessage++, date: Math.floor(Date.now() / 1000), chat: { id: Number(params.chat_id), type: 'private' }, text: params.text } });
      }
      if (m[2] === 'getUpdates') {
        const offset = Number(params.offset ?? 0);
        for (let i = updates.length - 1; i >= 0; i--) if (updates[i]!.update_id < offset) updates.splice(i, 1);
        const reply = (): void => answer(res, 200, { ok: true, result: updates.filter((u) => u.update_id >= offset) });
        if (updates.some((u) => u.update_id >= offset)) return reply();
        // Long polling, capped so tests never hang on a poll.
        const wait = Math.min(Number(params.timeout ?? 0), 2) * 1000;
        const done = (): void => {
          polls.delete(done);
          clearTimeout(timer);
          if (!res.writableEnded) reply();
        };
        const timer = setTimeout(done, wait);
        polls.add(done);
        // On the response, not the keep-alive socket: a listener per poll on the socket piles up.
        res.once('close', () => {
          polls.delete(done);
          clearTimeout(timer);
        });
        return;
      }
      return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    token,
    sent,
    calls,
    pushMessage(chatId, text) {
      updates.push({ update_id: nextUpdate++, message: { message_id: nextMessage++, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' }, from: { id: chatId }, text } });
      wake(polls);
    },
    failSends(status, n) {
      for (let i = 0; i < n; i++) failures.push(status);
    },
    async waitForSent(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (sent.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`fake Telegram: ${sent.length} of ${n} messages after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 100));
          const w = (): void => {
            clearTimeout(t);
            waiters.delete(w);
            resolve();
          };
          waiters.add(w);
        });
      }
      return sent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        wake(polls);
        wake(waiters);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
