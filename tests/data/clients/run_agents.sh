#!/usr/bin/env bash
# Claude Code and Codex CLI, unmodified, end to end against a mockserver started for the
# purpose (`make e2e-agents` installs the CLIs from npm and runs this). Each CLI answers a
# question, then runs one scripted tool turn (Claude Code: its Write tool creates a file;
# Codex: a shell command creates out.txt), in a scratch folder with a scratch HOME; the server's
# journal must show every request answered with usage above zero.
#
# usage: run_agents.sh CLAUDE_BIN CODEX_BIN [MOCKSERVER_BIN]
# Environment: CODEX_MODELS (default "default gpt-5": the CLI's own default model, whose shell
# is a freeform `exec` tool, and a model that gets the function tools), TIMEOUT (seconds per CLI
# run, default 180), KEEP=1 to keep the scratch folder. Exit status 0 when every check passed.
set -u

CLAUDE_BIN="${1:?usage: $0 CLAUDE_BIN CODEX_BIN [MOCKSERVER_BIN]}"
CODEX_BIN="${2:?usage: $0 CLAUDE_BIN CODEX_BIN [MOCKSERVER_BIN]}"
MOCKSERVER_BIN="${3:-mockserver}"
absolute() { case "$1" in /*) echo "$1" ;; */*) echo "$PWD/$1" ;; *) command -v "$1" ;; esac; }
CLAUDE_BIN="$(absolute "$CLAUDE_BIN")"  # the CLIs run from scratch folders
CODEX_BIN="$(absolute "$CODEX_BIN")"
MOCKSERVER_BIN="$(absolute "$MOCKSERVER_BIN")"
CODEX_MODELS="${CODEX_MODELS:-default gpt-5}"
TIMEOUT="${TIMEOUT:-180}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/mockserver-agents.XXXXXX")"
FAILS=0
SERVER_PID=""

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ "${KEEP:-0}" = 1 ] || rm -rf "$SCRATCH"
}
trap cleanup EXIT
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; FAILS=$((FAILS + 1)); }
field() {  # field FILE KEY...: a value inside a JSON document
  python3 -c 'import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = value.get(key) if isinstance(value, dict) else None
print(value)' "$@" 2>/dev/null
}

# The server: any free port, read back from its banner.
"$MOCKSERVER_BIN" serve --port 0 "$HERE/agents.yaml" >"$SCRATCH/server.log" 2>&1 &
SERVER_PID=$!
BASE_URL=""
for _ in $(seq 1 300); do
  BASE_URL="$(sed -n 's/^mockserver listening on \(http[^ ]*\).*/\1/p' "$SCRATCH/server.log")"
  [ -n "$BASE_URL" ] && curl -sf "$BASE_URL/_mock/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SCRATCH/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$BASE_URL" ] || { echo "mockserver did not start"; cat "$SCRATCH/server.log"; exit 1; }
echo "mockserver at $BASE_URL"

# --- Claude Code --------------------------------------------------------------------------------
claude_run() {  # claude_run OUTFILE PROMPT [flags...]
  local out="$1" prompt="$2"; shift 2
  (cd "$SCRATCH/claude_work" && env -u ANTHROPIC_AUTH_TOKEN HOME="$SCRATCH/claude_home" \
      ANTHROPIC_BASE_URL="$BASE_URL" ANTHROPIC_API_KEY=sk-ant-test \
      DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
      timeout "$TIMEOUT" "$CLAUDE_BIN" -p "$prompt" --output-format json "$@" \
      </dev/null >"$out" 2>"$out.err")
}
mkdir -p "$SCRATCH/claude_home" "$SCRATCH/claude_work"
claude_run "$SCRATCH/claude_q.json" "What is 2+2?"
rc=$?
result="$(field "$SCRATCH/claude_q.json" result)"
tokens="$(field "$SCRATCH/claude_q.json" usage output_tokens)"
if [ $rc -eq 0 ] && [ "$result" = 4 ] && [ "${tokens:-0}" -gt 0 ] 2>/dev/null; then
  pass "claude: question (result: $result, output tokens: $tokens)"
else
  fail "claude: question: exit $rc, result '$result', output tokens '$tokens'"
  head -5 "$SCRATCH/claude_q.json.err"
fi
target="$SCRATCH/claude_work/hello.txt"
claude_run "$SCRATCH/claude_tool.json" "Create the file $target containing a greeting." \
  --permission-mode acceptEdits
rc=$?
result="$(field "$SCRATCH/claude_tool.json" result)"
if [ $rc -eq 0 ] && grep -q "hello from mockserver" "$target" 2>/dev/null \
    && [ "$result" = "I created the file." ]; then
  pass "claude: Write tool turn (file created, turns: $(field "$SCRATCH/claude_tool.json" num_turns))"
else
  fail "claude: Write tool turn: exit $rc, file '$(cat "$target" 2>&1)', result '$result'"
  head -5 "$SCRATCH/claude_tool.json.err"
fi

# --- Codex CLI ----------------------------------------------------------------------------------
codex_run() {  # codex_run WORKDIR LASTMSG MODEL PROMPT
  local work="$1" last="$2" model="$3" prompt="$4" model_args=()
  [ "$model" = default ] || model_args=(-m "$model")
  mkdir -p "$work" "$SCRATCH/codex_home"
  (cd "$work" && env CODEX_HOME="$SCRATCH/codex_home" MOCK_API_KEY=sk-test \
      timeout "$TIMEOUT" "$CODEX_BIN" exec --skip-git-repo-check --ephemeral --color never \
        --dangerously-bypass-approvals-and-sandbox \
        -c model_provider=mock -c model_providers.mock.name=mock \
        -c "model_providers.mock.base_url=$BASE_URL/v1" \
        -c model_providers.mock.env_key=MOCK_API_KEY \
        -c model_providers.mock.wire_api=responses \
        "${model_args[@]}" -o "$last" "$prompt" </dev/null >"$last.stdout" 2>"$last.stderr")
}
for model in $CODEX_MODELS; do
  work="$SCRATCH/codex_work_$model"
  codex_run "$work" "$SCRATCH/codex_q_$model.txt" "$model" "What is 2+2?"
  rc=$?
  answer="$(cat "$SCRATCH/codex_q_$model.txt" 2>/dev/null)"
  if [ $rc -eq 0 ] && [ "$answer" = 4 ]; then
    pass "codex[$model]: question (answer: $answer)"
  else
    fail "codex[$model]: question: exit $rc, answer '$answer'"
    grep -iE "error|warn" "$SCRATCH/codex_q_$model.txt.stderr" | head -5
  fi
  codex_run "$work" "$SCRATCH/codex_tool_$model.txt" "$model" \
    "Create out.txt containing hi using the shell."
  rc=$?
  answer="$(cat "$SCRATCH/codex_tool_$model.txt" 2>/dev/null)"
  if [ $rc -eq 0 ] && [ "$(cat "$work/out.txt" 2>/dev/null)" = hi ] \
      && [ "$answer" = "Wrote out.txt." ]; then
    pass "codex[$model]: shell tool turn (out.txt created, answer: $answer)"
  else
    fail "codex[$model]: shell tool turn: exit $rc, out.txt '$(cat "$work/out.txt" 2>&1)', answer '$answer'"
    grep -iE "error|reconnect" "$SCRATCH/codex_tool_$model.txt.stderr" | head -5
  fi
done

# --- What the server saw: every request answered, with usage above zero -------------------------
curl -sf "$BASE_URL/_mock/requests?limit=1000" >"$SCRATCH/journal.json"
python3 - "$SCRATCH/journal.json" <<'EOF' || FAILS=$((FAILS + 1))
import json
import sys

entries = json.load(open(sys.argv[1]))["requests"]
generations = [e for e in entries if e["endpoint"] in ("/v1/messages", "/v1/responses")]
bad = [
    (e["endpoint"], e["status"], e["usage"])
    for e in generations
    if e["status"] != 200 or not (e["usage"] or {}).get("completion_tokens")
]
rules = sorted({e["rule"] for e in generations if e["rule"]})
print(f"journal: {len(generations)} generations, rules used: {', '.join(rules)}")
notes = sorted({note for e in generations for note in e.get("notes") or []})
if notes:
    print("journal notes (fields the server doesn't know yet):", "; ".join(notes))
if bad or not generations:
    print("FAIL  requests not answered with usage:", bad)
    sys.exit(1)
print("PASS  every request answered with usage above zero")
EOF

echo "---- $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
