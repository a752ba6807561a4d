#!/usr/bin/env bash
# The client's answer path of the release binary, measured from outside
# with wrk in one run: GET /healthz (the ceiling), GET /s/{token} and
# POST /s/{token}, on SQLite, for a clinic of 40 clinicians whose clients
# answer above the cutoff. Prints requests/s, latency percentiles and the
# server's peak memory; compare the ratios, not the absolute numbers (the
# machine is shared).
#
#   benches/answers.sh [ANSWERS] [CONNECTIONS]     (defaults: 20000, 32)
#   OPEN_ALERTS=5000 benches/answers.sh             (one clinician with 5,000 open alerts first)
#   BIN=/tmp/rapport-before benches/answers.sh     (another build, to compare two in alternating runs)
#
# POST runs for 5 s over the links, each answered once; a request on a
# used link would get the cheaper "already answered" page, so ANSWERS must
# exceed 5 s of answers (the script refuses the figure when it did not).
#
# Needs wrk and sqlite3 (Debian: apt-get install wrk sqlite3) and builds the release binary if
# it is missing. Everything it makes lives in a temporary folder. With
# PERF_OUT=FILE it also records a perf profile of the server during the POSTs
# (PERF_GET_OUT=FILE: during the GETs).
set -euo pipefail
cd "$(dirname "$0")/.."

answers=${1:-20000}
connections=${2:-32}
bin=${BIN:-target/release/rapport}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt-get install sqlite3)" >&2; exit 1; }
[ -x "$bin" ] || cargo build --release --locked

work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Only this script's settings reach the binary.
for v in $(env | grep -o '^RAPPORT_[A-Z_]*' || true); do unset "$v"; done
export RAPPORT_DATABASE_URL="sqlite://$work/rapport.db" RAPPORT_OUTBOX_DIR="$work/outbox" \
  RAPPORT_BIND="127.0.0.1:$port" RAPPORT_BASE_URL="$base" RAPPORT_TIME_ZONE=UTC \
  RAPPORT_QUIET_HOURS=off RAPPORT_INVITE_DELAY_MINUTES=0 RAPPORT_JOB_INTERVAL_SECONDS=1 \
  RAPPORT_LOG=warn

echo "==> a clinic of 40 clinicians"
for i in $(seq 1 40); do
  echo "a long bench password $i" | "$bin" user add --role clinician --email "c$i@bench.test" --name "Clinician $i" >/dev/null
done
key=$("$bin" apikey create --name bench)
"$bin" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

# appointments COUNT PREFIX CLINICIAN TOTAL: COUNT attended appointments through
# the API, each for a new client whose email starts with PREFIX, with
# clinician cCLINICIAN (0: the 40 clinicians in turn); returns once the
# database holds TOTAL appointments.
appointments() {
  cat >"$work/appointments.lua" <<EOF
local n, per = 0, $1
local ends = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 300)
local starts = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 3300)
function setup(thread) thread:set("id", math.random(1, 1000000000)) end
local done = 0
response = function() done = done + 1; if done >= per / 2 then wrk.thread:stop() end end
request = function()
  n = n + 1
  local client = "$2" .. id .. "-" .. n
  local clinician = $3
  if clinician == 0 then clinician = (n % 40) + 1 end
  local body = string.format('{"source":"bench","external_id":"%s","clinician_email":"c%d@bench.test",' ..
    '"client":{"external_id":"%s","name":"Client %s","email":"%s@bench.test"},' ..
    '"start":"%s","end":"%s","status":"attended"}', client, clinician, client, client, client, starts, ends)
  return wrk.format("POST", "/api/v1/appointments",
    {["Authorization"] = "Bearer $key", ["Content-Type"] = "application/json"}, body)
end
EOF
  until_count "$work/appointments.lua" "SELECT COUNT(*) FROM appointments" "$4"
}
# until_count SCRIPT SQL N: runs wrk with SCRIPT (whose threads stop after
# their share) until SQL counts N, then stops it (wrk itself would wait out
# its whole duration).
until_count() {
  wrk -t2 -c8 -d900s -s "$1" "$base" >/dev/null &
  local wrk_pid=$!
  for _ in $(seq 1 1800); do
    [ "$(sqlite3 "$work/rapport.db" "$2")" -ge "$3" ] && break
    sleep 0.5
  done
  kill "$wrk_pid" 2>/dev/null; wait "$wrk_pid" 2>/dev/null || true
}
# emailed N: waits until N questionnaire emails have gone out.
emailed() {
  for _ in $(seq 1 600); do
    [ "$(sqlite3 "$work/rapport.db" "SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND sent_at IS NOT NULL")" -ge "$1" ] && return
    sleep 0.5
  done
}

open_alerts=${OPEN_ALERTS:-0}
if [ "$open_alerts" -gt 0 ]; then
  echo "==> $open_alerts open alerts for one clinician (c1): their clients answer low"
  appointments "$open_alerts" alert 1 "$open_alerts"
  emailed "$open_alerts"
  { grep -rlE '^To:.*alert[0-9]' "$work/outbox" || true; } | xargs grep -hoE "$base/s/[A-Za-z0-9_-]+" | sort -u |
    sed "s#$base##" >"$work/alert-tokens"
  cat >"$work/low.lua" <<EOF
local all, mine, n = {}, {}, 0
threads_seen = {}
function setup(thread) thread:set("index", #threads_seen + 1); threads_seen[#threads_seen + 1] = thread end
function init(args)
  for line in io.lines("$work/alert-tokens") do all[#all + 1] = line end
  for k = index, #all, 2 do mine[#mine + 1] = all[k] end
end
response = function() if n >= #mine then wrk.thread:stop() end end
request = function()
  n = n + 1
  return wrk.format("POST", mine[((n - 1) % #mine) + 1], {["Content-Type"] = "application/x-www-form-urlencoded"},
    "bond=2&goals=2&approach=2&overall=2&uncomfortable=no")
end
EOF
  until_count "$work/low.lua" "SELECT COUNT(*) FROM responses" "$open_alerts"
  echo "    open alerts for c1: $(sqlite3 "$work/rapport.db" "SELECT COUNT(*) FROM alerts a JOIN staff s ON s.id = a.clinician_id WHERE s.email = 'c1@bench.test' AND a.status <> 'closed'")"
fi

echo "==> $answers attended appointments through the API, one questionnaire each"
appointments "$answers" "" 0 "$((answers + open_alerts))"
emailed "$((answers + open_alerts))"
# (grep -L exits 1 even when it lists files.)
{ grep -rLE '^To:.*alert[0-9]' "$work/outbox" || true; } | xargs grep -hoE "$base/s/[A-Za-z0-9_-]+" | sort -u |
  sed "s#$base##" >"$work/tokens"
tokens=$(wc -l <"$work/tokens")
echo "    $tokens questionnaire links emailed"
# Measured as deployed: the job loop at its default interval (15 s), not
# the 1 s used above to send the emails quickly.
kill "$pid"; wait "$pid" 2>/dev/null || true
unset RAPPORT_JOB_INTERVAL_SECONDS
"$bin" serve >>"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

cat >"$work/get.lua" <<EOF
local paths = {}
for line in io.lines("$work/tokens") do paths[#paths + 1] = line end
local i = 0
request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end
EOF
cat >"$work/post.lua" <<EOF
local all, mine, i = {}, {}, 0
for line in io.lines("$work/tokens") do all[#all + 1] = line end
function setup(thread) thread:set("index", #threads_seen + 1); threads_seen[#threads_seen + 1] = thread end
threads_seen = {}
function init(args)
  for k = index, #all, 2 do mine[#mine + 1] = all[k] end
end
request = function()
  i = i + 1
  return wrk.format("POST", mine[((i - 1) % #mine) + 1],
    {["Content-Type"] = "application/x-www-form-urlencoded"},
    "bond=10&goals=9&approach=9&overall=9&uncomfortable=no")
end
EOF

run() { # name, wrk args…
  local name=$1; shift
  local out
  out=$(wrk -t2 -c"$connections" --latency "$@")
  printf '%-22s %10s req/s   p50 %8s   p99 %8s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}
echo "==> wrk, $connections connections, 2 threads"
run "GET /healthz" -d10s "$base/healthz"
get_perf_pid=""
if [ -n "${PERF_GET_OUT:-}" ]; then  # PERF_GET_OUT=file: the same for the GETs
  perf record -F 499 -g -p "$pid" -o "$PERF_GET_OUT" -- sleep 10 >/dev/null 2>&1 &
  get_perf_pid=$!
fi
run "GET /s/{token}" -d10s -s "$work/get.lua" "$base"
[ -n "$get_perf_pid" ] && wait "$get_perf_pid"
perf_pid=""
if [ -n "${PERF_OUT:-}" ]; then  # PERF_OUT=file: perf profile of the server during the POSTs
  perf record -F 499 -g -p "$pid" -o "$PERF_OUT" -- sleep 5 >/dev/null 2>&1 &
  perf_pid=$!
fi
before=$(sqlite3 "$work/rapport.db" "SELECT COUNT(*) FROM responses")
run "POST /s/{token}" -d5s -s "$work/post.lua" "$base"
[ -n "$perf_pid" ] && wait "$perf_pid"
answered=$(($(sqlite3 "$work/rapport.db" "SELECT COUNT(*) FROM responses") - before))
echo "    answers stored: $answered of $tokens links in 5 s: $((answered / 5)) answers/s"
if [ "$answered" = "$tokens" ]; then
  echo "    every link was answered before the 5 s ended, so the POST figures above mix in" >&2
  echo "    cheaper \"already answered\" pages and do not count: run with more ANSWERS" >&2
  exit 1
fi
echo "    server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
