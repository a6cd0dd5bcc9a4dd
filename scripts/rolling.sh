#!/usr/bin/env bash
# Three Sherpa instances behind HAProxy on one MariaDB database, under the
# load script; mid-load one instance gets SIGTERM (it drains: /readyz 503,
# requests in flight finish), stops, and is started again; later a second
# one. Prints the load script's totals: requests, errors, p99.
#
#   scripts/rolling.sh                 # MariaDB at 127.0.0.1:3306, root, no password
#   SHERPA_ROLLING_DB=mysql://root@127.0.0.1:3306/ SHERPA_ROLLING_FOR=60s scripts/rolling.sh
#
# SHERPA_ROLLING_NAIVE=1 is the control run: no drain delay and no retries in
# HAProxy, to see what the two are for.
#
# Traffic goes to 127.0.0.1 only. Needs haproxy (apt-get install haproxy).
# It creates the database sherpa_rolling (dropped at the end unless
# SHERPA_ROLLING_KEEP=1) and works in /tmp/sherpa_rolling.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${SHERPA_ROLLING_DB:-mysql://root@127.0.0.1:3306/}
db=${SHERPA_ROLLING_DBNAME:-sherpa_rolling}
dur=${SHERPA_ROLLING_FOR:-45s}
contacts=${SHERPA_ROLLING_CONTACTS:-3000}
clients=${SHERPA_ROLLING_CLIENTS:-8}
work=/tmp/sherpa_rolling
lb_port=18180
ports=(18181 18182 18183)
mkdir -p "$work"
command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install -y haproxy" >&2; exit 1; }
hostport=${base#mysql://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
myhost=${hostport%%:*}; myport=${hostport##*:}
mysql_() { mysql --protocol=tcp -h"$myhost" -P"$myport" -uroot "$@"; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/haproxy.pid" ] && kill "$(cat "$work/haproxy.pid")" 2>/dev/null || true
  if [ "${SHERPA_ROLLING_KEEP:-}" != 1 ]; then mysql_ -e "DROP DATABASE IF EXISTS $db" || true; fi
}
trap cleanup EXIT

echo "== build"
go build -o "$work/sherpa" .
go build -o "$work/loadtest" ./loadtest
mysql_ -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
url="${base%/}/$db"
export SHERPA_DATABASE_URL=$url SHERPA_SECRET=rolling-restart-secret-0123456789 SHERPA_LOG_FORMAT=json SHERPA_LOG_LEVEL=warn
export SHERPA_TRUSTED_PROXIES=127.0.0.1 SHERPA_DRAIN_DELAY=${SHERPA_DRAIN_DELAY:-3s} SHERPA_PUBLIC_URL=http://127.0.0.1:$lb_port
retry="  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout"
if [ "${SHERPA_ROLLING_NAIVE:-}" = 1 ]; then
  export SHERPA_DRAIN_DELAY=0
  retry="  retries 0"
fi
echo "== seed $contacts contacts"
"$work/sherpa" seed -contacts "$contacts" -email bench@sherpa.test -password bench-password-1 >"$work/seed.log"

start() { # index
  local i=$1
  "$work/sherpa" -addr "127.0.0.1:${ports[$i]}" >>"$work/instance$i.log" 2>&1 &
  pids[$i]=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:${ports[$i]}/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "instance $i did not become ready" >&2; return 1
}
for i in 0 1 2; do start "$i"; done

cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 512
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  # A request that meets a closing instance is sent to another.
$retry
frontend sherpa
  bind 127.0.0.1:$lb_port
  default_backend app
backend app
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 1 rise 2
  server a 127.0.0.1:${ports[0]} check
  server b 127.0.0.1:${ports[1]} check
  server c 127.0.0.1:${ports[2]} check
listen stats
  bind 127.0.0.1:$((lb_port + 9))
  stats enable
  stats uri /stats
CFG
haproxy -f "$work/haproxy.cfg" -D -p "$work/haproxy.pid"
sleep 1.5

echo "== load for $dur through HAProxy; instance b restarts after 10s, instance c after 25s"
"$work/loadtest" -url "http://127.0.0.1:$lb_port" -email bench@sherpa.test -password bench-password-1 \
  -c "$clients" -n 1000000 -for "$dur" >"$work/load.txt" 2>&1 &
load=$!
restart() { # index
  local i=$1 t0
  t0=$(date +%s.%N)
  kill -TERM "${pids[$i]}"
  wait "${pids[$i]}" || true
  printf '  instance %s stopped %.1fs after SIGTERM\n' "$i" "$(echo "$(date +%s.%N) - $t0" | bc)"
  start "$i"
  printf '  instance %s ready again %.1fs after SIGTERM\n' "$i" "$(echo "$(date +%s.%N) - $t0" | bc)"
}
sleep 10; restart 1
sleep 12; restart 2
wait "$load" || { cat "$work/load.txt"; exit 1; }
cat "$work/load.txt"
echo "== HAProxy per instance: requests, 5xx answers, retries, redispatches"
curl -s "http://127.0.0.1:$((lb_port + 9))/stats;csv" |
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == "app" { printf "  %-8s requests %6s  5xx %4s  retries %4s  redispatches %4s\n", $2, $col["stot"], $col["hrsp_5xx"], $col["wretr"], $col["wredis"] }'
grep -q " 0 errors" "$work/load.txt"
