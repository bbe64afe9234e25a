#!/usr/bin/env bash
# Prints what `qtrade demo` shows in a COLUMNSxROWS terminal, as plain text: the README's dashboard
# captures are made with it. The demo runs offline (the recording in fixtures/) inside a private
# tmux server; after a while two paper orders are placed, a market buy through the `/` command line
# (it fills) and a limit buy through the order form (it rests), so the account panels show something.
#
#   scripts/capture-tui.sh [COLUMNS ROWS]        default 140 40; needs tmux and a built dist/ (npm run build)
#   SPEED=15 WARMUP=20 SETTLE=6 scripts/capture-tui.sh 80 24
set -euo pipefail
cd "$(dirname "$0")/.."

columns=${1:-140}
rows=${2:-40}
speed=${SPEED:-15}     # multiple of the recorded pace: more candles on the chart in less time
warmup=${WARMUP:-20}   # seconds before the orders; at 15x the 11-minute recording loops after ~44 s
settle=${SETTLE:-6}    # seconds between the orders and the capture

command -v tmux >/dev/null || { echo "capture-tui: tmux is not installed (apt-get install -y tmux)" >&2; exit 1; }
[ -f dist/bin/qtrade.js ] || { echo "capture-tui: dist/ is not built; run npm run build" >&2; exit 1; }

data=$(mktemp -d)
socket="qtrade-capture-$$"
cleanup() {
  local path
  path=$(tmux -L "$socket" display-message -p '#{socket_path}' 2>/dev/null || true)
  tmux -L "$socket" kill-server 2>/dev/null || true
  if [ -n "$path" ]; then rm -f "$path"; fi
  rm -rf "$data"
}
trap cleanup EXIT

tmux -L "$socket" -f /dev/null new-session -d -s demo -x "$columns" -y "$rows" \
  "env NO_COLOR=1 node dist/bin/qtrade.js --data-dir '$data' demo --speed $speed"
sleep "$warmup"
key() { tmux -L "$socket" send-keys -t demo "$@"; sleep 0.4; }
# A market buy through the command line (it fills: a position and a fill)...
key /; key -l "buy 0.05 btcusdt"; key Enter
# ...and a limit buy below the market through the order form (it rests in Open orders).
key b; key -l 0.02; key Down; for _ in $(seq 12); do key BSpace; done; key -l 61000; key Enter
# Shift-Tab leaves the form: focus on the account panel (full layout) or the chart (compact).
sleep 1; key BTab
sleep "$settle"
tmux -L "$socket" capture-pane -p -t demo | sed -e 's/[[:space:]]*$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
