#!/usr/bin/env bash
# zkServer.sh for vrkeeper: starts, stops and inspects a vrkeeper server the
# way Apache ZooKeeper's bin/zkServer.sh does, so init scripts, container
# images and test harnesses written for ZooKeeper run vrkeeper unchanged.
#
#   zkServer.sh [--config <conf-dir>] {start|start-foreground|stop|restart|status|version|print-cmd} [zoo.cfg]
#
# The configuration is $ZOOCFGDIR/zoo.cfg (ZOOCFGDIR defaults to ../conf
# beside this script); a second argument names another file in ZOOCFGDIR, or
# a path. $ZOOCFGDIR/java.env and $ZOOCFGDIR/zookeeper-env.sh are sourced as
# ZooKeeper's zkEnv.sh sources them; SERVER_JVMFLAGS and JVMFLAGS carry
# ZooKeeper's -D properties, which vrkeeper reads. The daemon's output goes
# to $ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out and its pid to
# $ZOOPIDFILE (default <dataDir>/zookeeper_server.pid).
#
# The vrkeeper binary is $VRKEEPER_BIN, else vrkeeper beside this script,
# else vrkeeper on PATH. Nothing here reads standard input or needs git.
set -uo pipefail

bindir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(dirname "$bindir")"

if [ "${1:-}" = "--config" ]; then
  [ $# -ge 2 ] || { echo "--config needs a directory" >&2; exit 1; }
  ZOOCFGDIR="$2"
  shift 2
fi
ZOOCFGDIR="${ZOOCFGDIR:-$home/conf}"
[ -f "$ZOOCFGDIR/zookeeper-env.sh" ] && . "$ZOOCFGDIR/zookeeper-env.sh"
[ -f "$ZOOCFGDIR/java.env" ] && . "$ZOOCFGDIR/java.env"
ZOO_LOG_DIR="${ZOO_LOG_DIR:-$home/logs}"
export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-}" JVMFLAGS="${JVMFLAGS:-}"

cmd="${1:-}"
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"
if [ -n "${2:-}" ]; then
  case "$2" in
    */*) ZOOCFG="$2" ;;
    *) ZOOCFG="$ZOOCFGDIR/$2" ;;
  esac
fi

find_binary() {
  if [ -n "${VRKEEPER_BIN:-}" ]; then
    VRKEEPER="$VRKEEPER_BIN"
  elif [ -x "$bindir/vrkeeper" ]; then
    VRKEEPER="$bindir/vrkeeper"
  elif command -v vrkeeper >/dev/null 2>&1; then
    VRKEEPER="$(command -v vrkeeper)"
  else
    echo "vrkeeper binary not found: set VRKEEPER_BIN, or put vrkeeper beside this script or on PATH" >&2
    exit 1
  fi
}

# cfg KEY: the last value of KEY in the configuration, trimmed.
cfg() {
  sed -n "s/^[[:space:]]*$1[[:space:]]*[=:][[:space:]]*//p" "$ZOOCFG" 2>/dev/null | tail -n 1 | sed 's/[[:space:]]*$//'
}

pidfile() {
  if [ -n "${ZOOPIDFILE:-}" ]; then
    echo "$ZOOPIDFILE"
  else
    local d
    d="$(cfg dataDir)"
    echo "${d:-$home/data}/zookeeper_server.pid"
  fi
}

running_pid() {
  local pf pid
  pf="$(pidfile)"
  [ -f "$pf" ] || return 1
  pid="$(cat "$pf" 2>/dev/null)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# four WORD HOST PORT: a four-letter word's answer, without netcat or java.
four() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$2/$3" && printf %s "$1" >&3 && cat <&3' _ "$1" "$2" "$3" 2>/dev/null </dev/null
}

start() {
  find_binary
  echo "Using config: $ZOOCFG" >&2
  [ -f "$ZOOCFG" ] || { echo "no configuration file $ZOOCFG" >&2; exit 1; }
  if pid="$(running_pid)"; then
    echo "vrkeeper already running as process $pid."
    exit 1
  fi
  mkdir -p "$ZOO_LOG_DIR" "$(dirname "$(pidfile)")"
  out="$ZOO_LOG_DIR/zookeeper-${USER:-$(id -un)}-server-${HOSTNAME:-$(hostname)}.out"
  echo -n "Starting zookeeper ... "
  nohup "$VRKEEPER" serve --config "$ZOOCFG" >"$out" 2>&1 </dev/null &
  pid=$!
  echo -n "$pid" >"$(pidfile)"
  # Wait (at most 10 s) until it serves or fails.
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$(pidfile)"
      echo "FAILED TO START"
      tail -n 5 "$out" >&2
      exit 1
    fi
    grep -q 'serving' "$out" 2>/dev/null && break
    sleep 0.1
  done
  echo STARTED
}

stop() {
  echo "Using config: $ZOOCFG" >&2
  echo -n "Stopping zookeeper ... "
  pf="$(pidfile)"
  if [ ! -f "$pf" ]; then
    echo "no zookeeper to stop (could not find file $pf)"
    return 0
  fi
  pid="$(cat "$pf")"
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$pf"
  echo STOPPED
}

status() {
  echo "Using config: $ZOOCFG" >&2
  addr="$(cfg clientPortAddress)"
  port="$(cfg clientPort)"
  if ! [[ "$port" =~ ^[0-9]+$ ]]; then
    myid="$(cat "$(cfg dataDir)/myid" 2>/dev/null)"
    line="$(cfg "server\.$myid")"
    if [[ "$line" == *";"* ]]; then
      client="${line##*;}"
      port="${client##*:}"
      [[ "$client" == *:* ]] && addr="${client%:*}"
    fi
  fi
  if ! [[ "$port" =~ ^[0-9]+$ ]]; then
    echo "Unable to find either secure or unsecure client port in any configs. Terminating."
    exit 1
  fi
  case "$addr" in ""|0.0.0.0) addr=localhost ;; esac
  addr="${addr#[}"; addr="${addr%]}"
  echo "Client port found: $port. Client address: $addr. Client SSL: false."
  mode="$(four srvr "$addr" "$port" | grep Mode)"
  if [ -z "$mode" ]; then
    echo "Error contacting service. It is probably not running."
    exit 1
  fi
  echo "$mode"
}

case "$cmd" in
start) start ;;
start-foreground)
  find_binary
  echo "Using config: $ZOOCFG" >&2
  exec "$VRKEEPER" serve --config "$ZOOCFG" </dev/null
  ;;
print-cmd)
  find_binary
  echo "\"$VRKEEPER\" serve --config \"$ZOOCFG\""
  ;;
stop) stop ;;
restart)
  stop
  start
  ;;
status) status ;;
version)
  find_binary
  "$VRKEEPER" version
  ;;
*)
  echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd}" >&2
  exit 1
  ;;
esac
