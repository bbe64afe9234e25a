import readline from 'node:readline';
import type { Command } from 'commander';
import type { StrategyRecord } from '../engine/ai/tools.js';
import { addUsage, AiCanceledError, type TokenUsage } from '../engine/ai/client.js';
import { costOf, formatCost } from '../engine/ai/pricing.js';
import { QtradeError } from '../engine/errors.js';
import { printProposal, printStrategy, saveLastStrategy, streamPrinter, usageLine, withAssistant, type AssistantFlags } from './ask.js';
import { action, out, reportError } from './context.js';
import { wallNow } from './trading-context.js';

/**
 * `qtrade chat`: a conversation with the assistant. Reads one question per line — from a
 * terminal with a prompt, or from piped stdin without one (scripts, tests) — and keeps the
 * history until /clear or the end. A failed answer is reported and the chat goes on.
 */

const HELP = [
  '/save FILE   save the last strategy spec the assistant backtested (FILE.json)',
  '/clear       forget the conversation so far',
  '/exit        leave (so does Ctrl-D)',
  'Ctrl-C cancels an answer in progress; at the prompt it leaves.',
].join('\n');

export function register(program: Command): void {
  program
    .command('chat')
    .description('a conversation with the DeepSeek assistant (history kept; /save FILE, /clear, /exit)')
    .option('--model <name>', 'model (default: the ai.model setting)')
    .option('--no-tools', 'answer without reading the engine')
    .option('--thinking', "use the model's thinking mode")
    .option('--show-reasoning', 'print the reasoning on stderr even when it is not a terminal')
    .action(action((opts: AssistantFlags, cmd: Command) => chat(opts, cmd)));
}

async function chat(flags: AssistantFlags, cmd: Command): Promise<void> {
  await withAssistant(cmd, flags, 'chat', async (asst, config) => {
    const tty = process.stdin.isTTY === true;
    const rl = readline.createInterface({ input: process.stdin, ...(tty ? { output: process.stdout, prompt: 'you> ' } : {}), terminal: tty });
    let strategies: StrategyRecord[] = [];
    let total: TokenUsage | undefined;
    let answering: AbortController | undefined;
    // Ctrl-C: cancel the answer in flight; with none, leave.
    rl.on('SIGINT', () => (answering ? answering.abort() : rl.close()));
    const onSigint = (): void => (answering ? answering.abort() : rl.close());
    process.on('SIGINT', onSigint);
    if (tty) {
      out.err(`qtrade chat with ${config.model}${flags.tools === false ? ' (no tools)' : ''}; /help for commands`);
      rl.prompt();
    }
    try {
      for await (const raw of rl) {
        const line = raw.trim();
        if (line === '') {
          if (tty) rl.prompt();
          continue;
        }
        if (line === '/exit' || line === '/quit') break;
        if (line === '/help') out.err(HELP);
        else if (line === '/clear') {
          asst.clear();
          strategies = [];
          out.err('conversation cleared');
        } else if (line === '/save' || line.startsWith('/save ')) {
          try {
            out.err(`saved the strategy spec to ${saveLastStrategy(strategies, line.slice(5).trim() || 'strategy.json')}`);
          } catch (err) {
            reportError(err);
          }
        } else if (line.startsWith('/')) out.err(`unknown command ${line.split(' ')[0]}; /help lists them`);
        else {
          answering = new AbortController();
          const printer = streamPrinter(flags);
          try {
            const a = await asst.ask(line, { signal: answering.signal, onEvent: printer.onEvent });
            printer.finish();
            for (const s of a.strategies) printStrategy(s);
            for (const p of a.proposals) printProposal(p);
            if (a.strategies.length > 0) strategies = a.strategies;
            total = addUsage(total, a.usage);
            out.err(usageLine(a, config, wallNow()));
          } catch (err) {
            printer.finish();
            if (err instanceof AiCanceledError) out.err('(answer canceled)');
            else if (err instanceof QtradeError || err instanceof Error) reportError(err);
            else throw err;
          } finally {
            answering = undefined;
          }
        }
        if (tty) rl.prompt();
      }
    } finally {
      process.off('SIGINT', onSigint);
      rl.close();
    }
    if (total) {
      const cost = costOf(total, config.model, config.prices, wallNow());
      out.err(`session: ${total.promptTokens.toLocaleString('en-US')} prompt + ${total.completionTokens.toLocaleString('en-US')} completion tokens${cost ? `, ${formatCost(cost)}` : ''}`);
    }
  });
}
