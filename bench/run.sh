#!/usr/bin/env bash
# bench/run.sh: plannr-import against Postman's newman, on one machine, in one run.
#
# For each scenario it starts the fake Plannr (importer/plannrtest) on 127.0.0.1 with a rate
# limit and a latency, imports the same generated rows with plannr-import and with newman
# (a Postman collection and CSV data file written here), and prints: wall time, requests,
# 429s, duplicates left in Plannr, accepted rate against the limit, peak memory, and the
# ratios newman / plannr-import. It writes bench/out/plot-*.svg: accepted requests a second
# over time against the limit.
#
#   bench/run.sh                 # all three scenarios (about five minutes)
#   ROWS=300 bench/run.sh b      # one scenario, fewer rows
#   SKIP_NEWMAN=1 bench/run.sh   # plannr-import alone: a line of figures a scenario
#
# Needs Go, Node.js and npm; newman is installed from the npm registry into bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
ROWS=${ROWS:-600}
NEWMAN_VERSION=6.2.2

go build -o "$OUT/plannr-import" .
go build -o "$OUT/benchkit" ./bench/benchkit
if [ ! -x bench/node_modules/.bin/newman ]; then
  echo "installing newman@$NEWMAN_VERSION into bench/node_modules ..." >&2
  npm install --prefix bench --no-audit --no-fund --silent "newman@$NEWMAN_VERSION" >&2
fi
"$OUT/benchkit" gen -rows "$ROWS" -canonical "$OUT/rows.csv" -newman "$OUT/newman-data.csv"

# The Postman collection a newman user would write: one POST a data row.
cat > "$OUT/collection.json" <<'JSON'
{
  "info": {"name": "plannr contact details", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
  "item": [{
    "name": "create contact detail",
    "request": {
      "method": "POST",
      "url": "{{baseUrl}}/api/v2/contact-details",
      "header": [
        {"key": "Authorization", "value": "Bearer {{token}}"},
        {"key": "X-PLANNR-ACCOUNT-UUID", "value": "{{firm}}"},
        {"key": "Accept", "value": "application/json"},
        {"key": "Content-Type", "value": "application/json"}
      ],
      "body": {"mode": "raw", "raw": "{\"type\": \"{{type}}\", \"name\": \"{{name}}\", \"value\": \"{{value}}\", \"account_uuids\": [\"{{account_uuid}}\"]}"}
    }
  }]
}
JSON

# measure CMD...: runs CMD, and prints "seconds peak-MB" of it (peak resident memory of the
# process and its children, sampled every 50 ms).
measure() {
  local start end peak=0 pid
  start=$(date +%s.%N)
  "$@" >"$OUT/last.out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    local kb=0
    for p in $pid $(pgrep -P "$pid" || true); do
      kb=$((kb + $(awk '/VmHWM/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    [ "$kb" -gt "$peak" ] && peak=$kb
    sleep 0.05
  done
  wait "$pid" || true
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $((peak / 1024))"
}

# fake LIMIT WINDOW LATENCY LOG: starts the fake Plannr; sets URL TOKEN FIRM FAKE_PID.
fake() {
  rm -f "$OUT/info.txt"
  "$OUT/benchkit" serve -limit "$1" -window "$2" -latency "$3" -jitter 10ms -info "$OUT/info.txt" -log "$4" &
  FAKE_PID=$!
  for _ in $(seq 100); do [ -s "$OUT/info.txt" ] && break; sleep 0.05; done
  { read -r URL; read -r TOKEN; read -r FIRM; } <"$OUT/info.txt"
}
stop_fake() { kill -TERM "$FAKE_PID"; wait "$FAKE_PID" || true; }

# scenario NAME TITLE LIMIT WINDOW LATENCY LIMIT_RATE TOOL_RATE NEWMAN_DELAY_MS
scenario() {
  local name=$1 title=$2 limit=$3 window=$4 latency=$5 limit_rate=$6 tool_rate=$7 delay=$8
  echo "== ($name) $title" >&2
  fake "$limit" "$window" "$latency" "$OUT/log-$name-tool.csv"
  read -r t_secs t_mb < <(PLANNR_TOKEN=$TOKEN PLANNR_ACCOUNT_UUID=$FIRM PLANNR_BASE_URL=$URL \
    measure "$OUT/plannr-import" --rate "$tool_rate" --results "$OUT/results-$name.csv" --failed "$OUT/failed-$name.csv" "$OUT/rows.csv")
  stop_fake
  if [ -n "${SKIP_NEWMAN:-}" ]; then
    "$OUT/benchkit" report -limit-rate "$limit_rate" "$OUT/log-$name-tool.csv"
    return
  fi
  fake "$limit" "$window" "$latency" "$OUT/log-$name-newman.csv"
  local delay_flag=()
  [ "$delay" != 0 ] && delay_flag=(--delay-request "$delay")
  read -r n_secs n_mb < <(measure bench/node_modules/.bin/newman run "$OUT/collection.json" -d "$OUT/newman-data.csv" \
    --env-var "baseUrl=$URL" --env-var "token=$TOKEN" --env-var "firm=$FIRM" "${delay_flag[@]}" --silent)
  stop_fake
  "$OUT/benchkit" report -limit-rate "$limit_rate" "$OUT/log-$name-tool.csv" "$OUT/log-$name-newman.csv" >"$OUT/report-$name.tsv"
  { read -r _ t_req t_429 t_pct t_dup t_rate t_share; read -r _ n_req n_429 n_pct n_dup n_rate n_share; } <"$OUT/report-$name.tsv"
  if [ "$limit_rate" = 0 ]; then t_share="no limit"; n_share="no limit"; else t_share="$t_share of the limit"; n_share="$n_share of the limit"; fi
  printf '| (%s) %s | plannr-import | %.1f s | %s | %s (%s) | %s | %s (%s) | %s MB |\n' "$name" "$title" "$t_secs" "$t_req" "$t_429" "$t_pct" "$t_dup" "$t_rate" "$t_share" "$t_mb" >>"$OUT/table.md"
  printf '| | newman | %.1f s | %s | %s (%s) | %s | %s (%s) | %s MB |\n' "$n_secs" "$n_req" "$n_429" "$n_pct" "$n_dup" "$n_rate" "$n_share" "$n_mb" >>"$OUT/table.md"
  printf '| | newman ÷ plannr-import | %.1f× time | | | | | %.1f× memory |\n' "$(echo "$n_secs / $t_secs" | bc -l)" "$(echo "$n_mb / ($t_mb + 0.001)" | bc -l)" >>"$OUT/table.md"
  if [ "$limit_rate" != 0 ]; then
    "$OUT/benchkit" plot -limit-rate "$limit_rate" -title "($name) $title: accepted requests a second" \
      -labels "plannr-import --rate $tool_rate,newman --delay-request $delay" -o "$OUT/plot-$name.svg" \
      "$OUT/log-$name-tool.csv" "$OUT/log-$name-newman.csv"
  fi
}

{
  echo "Run on $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m), $(go version | cut -d' ' -f3)), $ROWS rows a run."
  echo
  echo "| scenario | importer | wall time | requests | 429s | duplicates | accepted rate | peak memory |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$OUT/table.md"
want=${1:-abc}
# (a) no limit, 50 ms latency: newman sends one at a time; plannr-import keeps 16 in flight.
[[ $want == *a* ]] && scenario a "no limit, 50 ms latency" 0 1m 50ms 0 0 0
# (b) Plannr's 500 a minute scaled to 20/s (200 a 10 s fixed window), 150 ms latency; both
#     told the limit (newman as the delay that makes 20/s).
[[ $want == *b* ]] && scenario b "limit 20/s, 150 ms latency" 200 10s 150ms 20 20 50
# (c) the same limit, but both told 3× too much (another integration uses the budget).
[[ $want == *c* ]] && scenario c "limit 20/s, told 60/s, 50 ms latency" 200 10s 50ms 20 60 16
cat "$OUT/table.md"
