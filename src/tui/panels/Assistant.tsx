import { useEffect, useReducer, useState, type ReactNode } from 'react';
import { Box, Text } from 'ink';
import { describeOrder, type Proposal } from '../../engine/ai/proposals.js';
import { ChatSession, type ChatLine } from '../chat.js';
import { hm } from '../format.js';
import { useTui } from '../hooks.js';
import { usePanelCapture, usePanelKeys } from '../keys.js';
import { toneColor, type Tone } from '../theme.js';
import { Panel, inner } from './Panel.js';

/** The app's one conversation (undefined when the session has no assistant), disposed with the app. */
export function useChatSession(): ChatSession | undefined {
  const { source, log } = useTui();
  const [chat] = useState(() => (source.assistant ? new ChatSession(source.assistant, { log, venue: source.info.venue, events: source }) : undefined));
  useEffect(() => () => chat?.dispose(), [chat]);
  return chat;
}

/** Re-renders on the next frame after the conversation or the proposals change. */
function useChatVersion(chat: ChatSession): number {
  const { frames } = useTui();
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const refresh = (): void => rerender();
    const off = chat.subscribe(() => frames.request(refresh));
    return () => {
      off();
      frames.cancel(refresh);
    };
  }, [chat, frames]);
  return chat.version;
}

/** Word-wraps `text` to `width` columns; long words are cut. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/(\s+)/)) {
      if (word === '') continue;
      if ((line + word).length <= w) {
        line += word;
        continue;
      }
      if (line.trim() !== '') out.push(line.trimEnd());
      line = /^\s+$/.test(word) ? '' : word;
      while (line.length > w) {
        out.push(line.slice(0, w));
        line = line.slice(w);
      }
    }
    out.push(line.trimEnd());
  }
  return out;
}

const LINE_STYLE: Record<ChatLine['kind'], { tone?: Tone; dim?: boolean; prefix: string }> = {
  user: { tone: 'accent', prefix: '> ' },
  reasoning: { dim: true, prefix: '' },
  answer: { prefix: '' },
  tool: { tone: 'muted', prefix: '· ' },
  usage: { tone: 'muted', prefix: '' },
  info: { tone: 'info', prefix: '' },
  error: { tone: 'bad', prefix: '' },
};

interface Row {
  key: string;
  text: string;
  tone?: Tone;
  dim?: boolean;
}

/** The transcript as display rows of `width` columns (exported for tests). */
export function transcriptRows(lines: readonly ChatLine[], width: number): Row[] {
  const rows: Row[] = [];
  lines.forEach((l, i) => {
    const style = LINE_STYLE[l.kind];
    const tone = l.kind === 'tool' && !l.ok ? 'warn' : style.tone;
    wrap(style.prefix + l.text, width).forEach((text, j) => rows.push({ key: `${i}.${j}`, text, ...(tone ? { tone } : {}), ...(style.dim ? { dim: true } : {}) }));
  });
  return rows;
}

/** A pending proposal: the order, the model's reason, the keys. Three rows. */
function Card({ p, width, selected, armed, focused }: { p: Proposal; width: number; selected: boolean; armed: boolean; focused: boolean }) {
  const { theme } = useTui();
  const [l, h, r, v, bl, br] = selected ? ['╔', '═', '╗', '║', '╚', '╝'] : ['┌', '─', '┐', '│', '└', '┘'];
  const title = ` proposal ${p.id}: ${describeOrder(p.order)} `;
  const keys = armed ? ' a again: place it · r reject ' : focused ? ' [a]pprove  [r]eject ' : ' focus here: a / r ';
  const expires = ` expires ${hm(p.expiresAt)} UTC `;
  const line = (left: string, text: string, right: string, fill: string): string => {
    const room = Math.max(0, width - 2);
    const body = text.length > room ? text.slice(0, Math.max(0, room - 1)) + '…' : text + fill.repeat(room - text.length);
    return left + body + right;
  };
  const color = toneColor(theme, selected ? 'warn' : undefined);
  return (
    <Box flexDirection="column" width={width} flexShrink={0}>
      <Text color={color} bold={selected} wrap="truncate">
        {line(l, h + title, r, h)}
      </Text>
      <Text wrap="truncate">
        <Text color={color}>{v}</Text>
        {line('', ` ${p.rationale.replace(/\s+/g, ' ')}`, '', ' ')}
        <Text color={color}>{v}</Text>
      </Text>
      <Text color={color} wrap="truncate">
        {line(bl, h + keys + (keys.length + expires.length + 2 < width ? h.repeat(Math.max(0, width - 3 - keys.length - expires.length)) + expires : ''), br, h).slice(0, width)}
      </Text>
    </Box>
  );
}

export interface AssistantPanelProps {
  width: number;
  height: number;
  focused: boolean;
  chat: ChatSession | undefined;
}

/**
 * The AI panel: the conversation (the question, the model's reasoning dimmed, the answer as it
 * streams, tool use, tokens and cost), the pending proposals as cards, and the prompt. Keys while
 * focused: Enter types a question (Enter sends, Esc leaves the prompt), Esc cancels an answer,
 * ↑↓ pick a card, a approves it (the order is placed), r rejects it, x clears the conversation.
 */
export function AssistantPanel({ width, height, focused, chat }: AssistantPanelProps) {
  if (!chat) return <NoAssistant width={width} height={height} focused={focused} />;
  return <Conversation width={width} height={height} focused={focused} chat={chat} />;
}

function NoAssistant({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const { theme } = useTui();
  const { w } = inner(width, height);
  return (
    <Panel title="AI" width={width} height={height} focused={focused}>
      {wrap('The assistant is not available in this session.', w).map((t, i) => (
        <Text key={i} color={toneColor(theme, 'muted')}>
          {t}
        </Text>
      ))}
    </Panel>
  );
}

function Conversation({ width, height, focused, chat }: { width: number; height: number; focused: boolean; chat: ChatSession }) {
  const { theme } = useTui();
  useChatVersion(chat);
  usePanelCapture('ai', {
    get current() {
      return chat.editing;
    },
  });
  usePanelKeys('ai', (input, key) => {
    if (chat.editing) {
      if (key.escape) {
        if (!chat.cancel()) chat.setEditing(false);
        return;
      }
      if (key.return) {
        chat.setEditing(false);
        chat.send(chat.draft);
        return;
      }
      if (key.backspace || key.delete) return chat.setDraft(chat.draft.slice(0, -1));
      if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow) return;
      if (input) chat.setDraft(chat.draft + input);
      return;
    }
    if (key.escape) return void chat.cancel();
    if (key.return) return chat.setEditing(true);
    if (key.upArrow) return chat.select(-1);
    if (key.downArrow) return chat.select(1);
    if (input === 'a') return chat.approve();
    if (input === 'r') return chat.reject();
    if (input === 'x') return chat.clear();
  });

  const { w, h } = inner(width, height);
  const status = chat.source.status();
  const pending = chat.pending();
  const current = chat.current();
  // Room for the prompt line and at most two cards (the selected one first), never all of it.
  const cardRoom = Math.max(0, Math.min(2, Math.floor((h - 2) / 3)));
  const cards = current ? [current, ...pending.filter((p) => p.id !== current.id)].slice(0, cardRoom) : [];
  const more = pending.length - cards.length;
  const rows = transcriptRows(chat.lines, w);
  const room = Math.max(0, h - 1 - cards.length * 3 - (more > 0 ? 1 : 0));
  const shown = rows.slice(-room);
  const title = status.ready ? `AI · ${status.model}${chat.streaming ? ' · answering' : ''}${pending.length > 0 ? ` · ${pending.length} pending` : ''}` : 'AI';

  let prompt: ReactNode;
  if (!status.ready) {
    prompt = <Text color={toneColor(theme, 'muted')}>set a key, then start the TUI again</Text>;
  } else if (chat.editing && focused) {
    prompt = (
      <Text>
        <Text color={toneColor(theme, 'accent')} bold>
          {'> '}
        </Text>
        {chat.draft.length > w - 4 ? '…' + chat.draft.slice(-(w - 5)) : chat.draft}
        <Text inverse> </Text>
      </Text>
    );
  } else if (chat.streaming) {
    prompt = <Text color={toneColor(theme, 'muted')}>answering… Esc cancels</Text>;
  } else {
    const keys = focused ? `Enter: ask${pending.length > 0 ? ' · ↑↓ a r: proposals' : ''}${chat.lines.length > 0 ? ' · x: clear' : ''}` : 'Tab here, then Enter to ask';
    prompt = <Text color={toneColor(theme, 'muted')}>{chat.draft ? `> ${chat.draft}  (${keys})` : keys}</Text>;
  }

  return (
    <Panel title={title} width={width} height={height} focused={focused}>
      <Box flexDirection="column" height={room} flexShrink={0} overflow="hidden">
        {!status.ready &&
          wrap(`${status.message}${status.hint ? `: ${status.hint}` : ''}`, w).map((t, i) => (
            <Text key={`k${i}`} color={toneColor(theme, 'warn')}>
              {t}
            </Text>
          ))}
        {status.ready && shown.length === 0 && (
          <Text color={toneColor(theme, 'muted')} wrap="wrap">
            Ask about the market, your paper account, its risk or a strategy. The assistant reads the engine; it can only propose orders, which you approve or reject here.
          </Text>
        )}
        {shown.map((r) => (
          <Text key={r.key} color={toneColor(theme, r.tone)} dimColor={r.dim === true} wrap="truncate">
            {r.text || ' '}
          </Text>
        ))}
      </Box>
      {cards.map((p) => (
        <Card key={p.id} p={p} width={w} selected={p.id === current?.id} armed={chat.armed === p.id} focused={focused} />
      ))}
      {more > 0 && (
        <Text color={toneColor(theme, 'muted')} wrap="truncate">
          +{more} more pending (↑↓)
        </Text>
      )}
      <Box height={1} flexShrink={0}>
        <Text wrap="truncate">{prompt}</Text>
      </Box>
    </Panel>
  );
}
