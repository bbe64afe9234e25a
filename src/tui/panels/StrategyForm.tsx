import type { Key } from 'ink';
import { Text } from 'ink';
import { useTui } from '../hooks.js';
import { fieldText, formFields, stepField, typeIntoField, type FieldKey, type FormContext, type StrategyDraft } from '../strategy-form.js';
import { toneColor } from '../theme.js';

/**
 * The fields of a strategy draft on wrapped lines, the current one inverted (and marked with ‹›
 * so it shows without colour or inverse too).
 */
export function DraftFields({ ctx, draft, field, backtest, active }: { ctx: FormContext; draft: StrategyDraft; field: FieldKey; backtest: boolean; active: boolean }) {
  const { theme } = useTui();
  const fields = formFields(ctx, draft, backtest);
  return (
    <Text wrap="wrap">
      {fields.map((f, i) => {
        const { label, value } = fieldText(ctx, draft, f);
        const cur = active && f === field;
        return (
          <Text key={f}>
            {i > 0 ? ' ' : ''}
            <Text color={toneColor(theme, 'muted')}>{label}</Text>
            <Text inverse={cur} bold={f === 'strategy'}>
              {cur ? `‹${value || ' '}›` : value || '∅'}
            </Text>
          </Text>
        );
      })}
    </Text>
  );
}

/**
 * The keys of a draft form: ↑↓ field, ←→ change (a choice, or a numeric step), digits type into
 * a param, Backspace deletes. Returns whether the key was the form's.
 */
export function editDraftKey(
  ctx: FormContext,
  backtest: boolean,
  state: { draft: StrategyDraft; field: FieldKey },
  input: string,
  key: Key,
  set: { draft: (d: StrategyDraft) => void; field: (f: FieldKey) => void },
): boolean {
  const fields = formFields(ctx, state.draft, backtest);
  const at = Math.max(0, fields.indexOf(state.field));
  const cur = fields[at]!;
  if (key.upArrow || key.downArrow) {
    set.field(fields[(at + (key.upArrow ? -1 : 1) + fields.length) % fields.length]!);
    return true;
  }
  if (key.leftArrow || key.rightArrow) {
    const next = stepField(ctx, state.draft, cur, key.leftArrow ? -1 : 1);
    set.draft(next);
    // A new strategy has other params: stay on a field that exists.
    if (!formFields(ctx, next, backtest).includes(cur)) set.field('strategy');
    return true;
  }
  if (key.backspace || key.delete) {
    set.draft(typeIntoField(ctx, state.draft, cur, '', true));
    return true;
  }
  if (input.length > 0 && !key.ctrl && !key.meta) {
    const next = typeIntoField(ctx, state.draft, cur, input, false);
    if (next !== state.draft) set.draft(next);
    return next !== state.draft;
  }
  return false;
}
