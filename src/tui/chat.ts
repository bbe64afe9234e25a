import type { AssistantEvent } from '../engine/ai/assistant.js';
import { AiCanceledError } from '../engine/ai/client.js';
import { describeOrder, proposalClientId, type Proposal } from '../engine/ai/proposals.js';
import type { EventLog } from './event-log.js';
import { describeError } from './format.js';
import { watchRefusal } from './place.js';
import type { TuiSource, VenueName } from './source.js';
import type { AssistantReply, AssistantSource } from './sources/assistant.js';
import { VENUE_LABEL } from './theme.js';

/**
 * The AI panel's state, kept by the app so a conversation, an answer streaming in and a half
 * typed question survive layout switches: the transcript, the prompt being typed, the proposal
 * card selected. Proposals are decided here only on the trader's keys (approve, reject); on a
 * venue other than paper, approving takes a second press that names the venue.
 */

export type ChatLine =
  | { kind: 'user' | 'reasoning' | 'answer' | 'usage' | 'info' | 'error'; text: string }
  | { kind: 'tool'; text: string; ok: boolean };

const MAX_LINES = 300;

const group = (n: number): string => n.toLocaleString('en-US');

/** "120 prompt + 30 completion tokens (12 reasoning), $0.0000498 · deepseek-flash, 2 calls". */
export function usageText(r: AssistantReply): string {
  const u = r.usage;
  const calls = r.calls === 1 ? '' : `, ${r.calls} calls`;
  if (!u) return `${r.model}${calls}: the API reported no token usage`;
  const reasoning = u.reasoningTokens > 0 ? ` (${group(u.reasoningTokens)} reasoning)` : '';
  const cost = r.cost ? `$${r.cost.usd}${r.cost.tier === 'flat' ? '' : ` ${r.cost.tier}`}` : 'cost unknown (no price for the model; set ai.prices)';
  return `${group(u.promptTokens)} prompt + ${group(u.completionTokens)} completion tokens${reasoning}, ${cost} · ${r.model}${calls}`;
}

export class ChatSession {
  private lines_: ChatLine[] = [];
  private version_ = 0;
  private ctl: AbortController | undefined;
  /** The line a streamed delta extends: the open reasoning or answer, by index. */
  private open: { kind: 'reasoning' | 'answer'; index: number } | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly offSource: () => void;
  draft = '';
  /** The prompt takes the keys (letters type) until Enter sends or Esc leaves it. */
  editing = false;
  selected: string | undefined;
  /** A proposal whose approval waits for the second press (venues other than paper). */
  armed: string | undefined;

  constructor(
    readonly source: AssistantSource,
    /** `events`: the account's events, so an approval the engine refuses is logged once, by its refusal event. */
    private readonly opts: { log: EventLog; venue: VenueName; events?: Pick<TuiSource, 'subscribe'> },
  ) {
    this.offSource = source.onChange(() => this.changed());
    void source.refresh().catch(() => {});
  }

  get lines(): readonly ChatLine[] {
    return this.lines_;
  }

  /** Bumped on every change (the panel re-renders on it). */
  get version(): number {
    return this.version_;
  }

  get streaming(): boolean {
    return this.ctl !== undefined;
  }

  /** Pending proposals, newest first. */
  pending(): Proposal[] {
    return this.source.proposals().filter((p) => p.status === 'pending');
  }

  /** The selected pending proposal (the newest when none was chosen). */
  current(): Proposal | undefined {
    const list = this.pending();
    return list.find((p) => p.id === this.selected) ?? list[0];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  setDraft(text: string): void {
    this.draft = text;
    this.changed();
  }

  setEditing(on: boolean): void {
    this.editing = on;
    this.changed();
  }

  /** Moves the card selection by `delta` among the pending proposals. */
  select(delta: number): void {
    const list = this.pending();
    if (list.length === 0) return;
    const at = Math.max(0, list.findIndex((p) => p.id === this.current()?.id));
    this.selected = list[Math.max(0, Math.min(list.length - 1, at + delta))]!.id;
    this.armed = undefined;
    this.changed();
  }

  /** Sends a question; refused (with a line saying why) while an answer streams or without a key. */
  send(prompt: string): void {
    const text = prompt.trim();
    if (!text) return;
    if (this.ctl) {
      this.push({ kind: 'info', text: 'an answer is still coming: Esc cancels it' });
      return;
    }
    const status = this.source.status();
    if (!status.ready) {
      this.push({ kind: 'error', text: status.hint ? `${status.message} (${status.hint})` : status.message });
      return;
    }
    this.draft = '';
    this.push({ kind: 'user', text });
    const ctl = (this.ctl = new AbortController());
    this.open = undefined;
    this.source.ask(text, { signal: ctl.signal, onEvent: (e) => this.onEvent(e) }).then(
      (reply) => {
        this.ctl = undefined;
        this.open = undefined;
        if (reply.finishReason === 'length') this.push({ kind: 'info', text: "the answer was cut off at the model's output limit" });
        // The tool line already shows each proposal in the transcript; its card takes the keys.
        for (const p of reply.proposals) {
          this.selected = p.id;
          this.opts.log.add('info', `AI proposal ${p.id}: ${describeOrder(p.order)} waits for you (AI panel: a approve, r reject)`);
        }
        this.push({ kind: 'usage', text: usageText(reply) });
      },
      (err: unknown) => {
        this.ctl = undefined;
        this.open = undefined;
        if (err instanceof AiCanceledError) this.push({ kind: 'info', text: '(answer canceled)' });
        else this.push({ kind: 'error', text: `✗ ${describeError(err).text}` });
      },
    );
  }

  /** Cancels the answer streaming in; false when there is none. */
  cancel(): boolean {
    if (!this.ctl) return false;
    this.ctl.abort();
    return true;
  }

  /** Forgets the conversation (the model's and the panel's); proposals stay. */
  clear(): void {
    this.cancel();
    this.source.clear();
    this.lines_ = [];
    this.open = undefined;
    this.changed();
  }

  /** The trader approves the selected proposal: its order is placed through the account's order path. */
  approve(): void {
    const p = this.current();
    if (!p) return;
    if (this.opts.venue !== 'paper' && this.armed !== p.id) {
      this.armed = p.id;
      this.push({ kind: 'info', text: `press a again to place ${describeOrder(p.order)} on ${VENUE_LABEL[this.opts.venue]}` });
      return;
    }
    this.armed = undefined;
    const watch = this.opts.events ? watchRefusal(this.opts.events, p.order.symbol, proposalClientId(p.id)) : undefined;
    this.source.approve(p.id).then(
      (r) => {
        watch?.off();
        const what = r.duplicate ? `already order ${r.order.orderId}, nothing new placed` : `order ${r.order.orderId} ${r.order.status}`;
        this.push({ kind: 'info', text: `✓ proposal ${p.id} approved: ${what}` });
        this.opts.log.add('good', `✓ AI proposal ${p.id} approved: ${describeOrder(p.order)} → ${what}`);
      },
      (err: unknown) => {
        const logged = watch?.onLog(err) ?? false;
        watch?.off();
        const text = `✗ proposal ${p.id}: ${describeError(err).text}`;
        this.push({ kind: 'error', text });
        if (!logged) this.opts.log.add('error', text);
      },
    );
  }

  reject(): void {
    const p = this.current();
    if (!p) return;
    this.armed = undefined;
    this.source.reject(p.id).then(
      () => {
        this.push({ kind: 'info', text: `proposal ${p.id} rejected: nothing placed` });
        this.opts.log.add('info', `AI proposal ${p.id} rejected: ${describeOrder(p.order)}`);
      },
      (err: unknown) => this.push({ kind: 'error', text: `✗ proposal ${p.id}: ${describeError(err).text}` }),
    );
  }

  dispose(): void {
    this.ctl?.abort();
    this.offSource();
    this.listeners.clear();
  }

  private onEvent(e: AssistantEvent): void {
    if (e.type === 'reasoning' || e.type === 'text') {
      const kind = e.type === 'text' ? 'answer' : 'reasoning';
      const o = this.open;
      if (o && o.kind === kind && this.lines_[o.index]) {
        const line = this.lines_[o.index]!;
        this.lines_ = [...this.lines_.slice(0, o.index), { ...line, text: line.text + e.delta }, ...this.lines_.slice(o.index + 1)];
        this.changed();
      } else {
        this.push({ kind, text: e.delta });
        this.open = { kind, index: this.lines_.length - 1 };
      }
    } else if (e.type === 'tool_result') {
      this.push({ kind: 'tool', ok: e.ok, text: e.ok ? e.summary : `${e.name} refused: ${e.summary}` });
    }
  }

  private push(line: ChatLine): void {
    this.open = undefined;
    const next = [...this.lines_, line];
    this.lines_ = next.length > MAX_LINES ? next.slice(-MAX_LINES) : next;
    this.changed();
  }

  private changed(): void {
    this.version_++;
    for (const l of [...this.listeners]) l();
  }
}
