#!/usr/bin/env bash
# TiDB for Sherpa's tests: builds tidb-server once from the pinned module in
# tools/tidb (about 35 minutes on a loaded 2-core machine) into a cache folder
# outside the repository, and starts it on the standalone unistore engine.
#
#   scripts/tidb.sh build          build the binary unless the cached one exists
#   scripts/tidb.sh start [port]   build if needed, start on port (4000) and wait
#                                  until it answers; prints the test URL
#   scripts/tidb.sh stop [port]    stop the server this script started on port
#   scripts/tidb.sh path           print the cached binary's path
#
# SHERPA_TIDB_CACHE overrides the cache folder (default ~/.cache/sherpa/tidb).
# The build runs under nice -n 19 with one package at a time (-p 1) so that
# other work on the machine goes on.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/tools/tidb"
version=$(awk '$1 == "github.com/pingcap/tidb" { print $2; exit }' "$mod/go.mod")
cache=${SHERPA_TIDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sherpa/tidb}
bin="$cache/$version/tidb-server"

build() {
  if [ -x "$bin" ]; then return 0; fi
  mkdir -p "$(dirname "$bin")"
  echo "building tidb-server $version into $bin (takes a while) …" >&2
  local tmp="$bin.tmp.$$"
  (cd "$mod" && GOWORK=off GOFLAGS=-mod=readonly nice -n 19 go build -p 1 -trimpath -o "$tmp" github.com/pingcap/tidb/cmd/tidb-server)
  mv "$tmp" "$bin"
}

answers() { # port
  if command -v mysqladmin >/dev/null 2>&1; then
    mysqladmin --protocol=tcp -h127.0.0.1 -P"$1" -uroot ping >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

start() { # port
  local port=${1:-4000}
  local dir="/tmp/sherpa_tidb_server_$port"
  build
  if answers "$port"; then
    echo "mysql://root@127.0.0.1:$port/"
    return 0
  fi
  mkdir -p "$dir"
  # A status port beside the SQL port; the data lives in $dir/data.
  nohup "$bin" -store unistore -path "$dir/data" -host 127.0.0.1 -P "$port" \
    -status $((port + 6080)) -log-file "$dir/tidb.log" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 120); do
    if answers "$port"; then
      echo "mysql://root@127.0.0.1:$port/"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "tidb-server did not start on port $port; see $dir/stdout.log and $dir/tidb.log:" >&2
  tail -20 "$dir/stdout.log" "$dir/tidb.log" >&2 || true
  return 1
}

stop() { # port
  local port=${1:-4000}
  local pidfile="/tmp/sherpa_tidb_server_$port/pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-start}" in
  build) build ;;
  start) start "${2:-4000}" ;;
  stop) stop "${2:-4000}" ;;
  path) echo "$bin" ;;
  *) echo "usage: $0 build|start [port]|stop [port]|path" >&2; exit 2 ;;
esac
