import { Box, Text } from 'ink';
import { useTui } from '../hooks.js';
import { useKeyState, usePanelKeys } from '../keys.js';
import { toneColor } from '../theme.js';

export interface CommandLineProps {
  width: number;
  onSubmit: (text: string) => void;
  onCancel: () => void;
  /** Earlier commands of the session, oldest first; the line appends to it. */
  history: string[];
  /** Text typed before the line was drawn. */
  initial?: string;
}

/** The `/` line: type a command, Enter runs it, Esc closes it; ↑ recalls the previous ones. */
export function CommandLine({ width, onSubmit, onCancel, history, initial = '' }: CommandLineProps) {
  const { theme } = useTui();
  const [text, setText, textRef] = useKeyState(initial);
  const [, setBack, backRef] = useKeyState(0);
  usePanelKeys('cmd', (input, key) => {
    if (key.escape) return onCancel();
    if (key.return) {
      const t = textRef.current;
      if (t.trim() && history[history.length - 1] !== t) history.push(t);
      return onSubmit(t);
    }
    if (key.backspace || key.delete) return setText((t) => t.slice(0, -1));
    const back = backRef.current;
    if (key.upArrow && history.length > 0) {
      const n = Math.min(history.length, back + 1);
      setBack(n);
      return setText(history[history.length - n]!);
    }
    if (key.downArrow) {
      const n = Math.max(0, back - 1);
      setBack(n);
      return setText(n === 0 ? '' : history[history.length - n]!);
    }
    if (key.ctrl || key.meta || key.tab) return;
    if (input) setText((t) => t + input);
  });
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Text wrap="truncate">
        <Text color={toneColor(theme, 'accent')} bold>
          {' > '}
        </Text>
        {text}
        <Text inverse> </Text>
        <Text color={toneColor(theme, 'muted')}>{text ? '' : '  buy 0.01 btcusdt limit 60000 · cancel all · interval 5m · Esc closes'}</Text>
      </Text>
    </Box>
  );
}
