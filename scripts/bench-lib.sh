# Shared by scripts/bench, scripts/bench-memory and scripts/bench-scale:
# build the binaries, and start Apache ZooKeeper (Debian's package) and
# vrkeeper clusters on this machine. Source it from the repository root
# after setting `servers`.
#
#   start_zk NAME CLIENT_BASE PEER_BASE [zoo.cfg LINES...]
#   start_vrk NAME CLIENT_BASE PEER_BASE PPROF_BASE [zoo.cfg LINES...]
#
# start a cluster of $servers servers with client ports CLIENT_BASE+i; each
# appends its servers' "NAME-i" to names, their pids to pids and their
# client addresses to the array named NAME_addrs (dashes become
# underscores). wait_serving PORT waits until a server answers srvr with a
# mode. leader_pid NAME prints the pid of the cluster's leader (primary).

if [ ! -f /usr/share/java/zookeeper.jar ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >/dev/null
fi
work=$(mktemp -d /tmp/vrk-bench.XXXXXX)
pids=() names=() ports=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "servers' logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

mkdir -p "$work/bin"
go build -o "$work/bin/vrkeeper" ./cmd/vrkeeper
go build -o "$work/bin/vrbench" ./cmd/vrbench

zk_cp=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar
for j in slf4j-api slf4j-simple netty-handler netty-common netty-buffer netty-transport \
         netty-transport-native-epoll netty-transport-native-unix-common netty-codec netty-resolver \
         commons-cli metrics-core snappy-java; do
  [ -f /usr/share/java/$j.jar ] && zk_cp=$zk_cp:/usr/share/java/$j.jar
done

# write_cfg NAME I CLIENT_BASE PEER_BASE [LINES...]: a zoo.cfg for server I
# of a cluster; prints its directory.
write_cfg() {
  local kind=$1 i=$2 cbase=$3 pbase=$4 d=$work/$1/s$2
  shift 4
  mkdir -p "$d/data"
  {
    echo "tickTime=2000"; echo "initLimit=10"; echo "syncLimit=5"
    echo "dataDir=$d/data"; echo "clientPort=$((cbase + i))"; echo "clientPortAddress=127.0.0.1"
    echo "maxClientCnxns=0"; echo "4lw.commands.whitelist=*"; echo "admin.enableServer=false"
    for l in "$@"; do echo "$l"; done
    if [ "$servers" -gt 1 ]; then
      echo "$i" > "$d/data/myid"
      for j in $(seq 1 "$servers"); do echo "server.$j=127.0.0.1:$((pbase + j)):$((pbase + 10 + j))"; done
    fi
  } > "$d/zoo.cfg"
  echo "$d"
}

# four WORD PORT: a four-letter word's answer.
four() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2 && printf $1 >&3 && cat <&3" 2>/dev/null; }

wait_serving() {
  for _ in $(seq 1 480); do
    if out=$(four srvr "$1") && grep -qE "Mode: (leader|follower|standalone)" <<<"$out"; then return 0; fi
    sleep 0.25
  done
  echo "server on port $1 never served" >&2; return 1
}

# record NAME PID PORT: a started server.
record() {
  local var=${1//-/_}_addrs
  pids+=("$2"); names+=("$1-$i"); ports+=("$3")
  eval "$var+=(127.0.0.1:$3)"
}

start_zk() {
  local kind=$1 cbase=$2 pbase=$3 i d
  shift 3
  eval "${kind//-/_}_addrs=()"
  for i in $(seq 1 "$servers"); do
    d=$(write_cfg "$kind" "$i" "$cbase" "$pbase" "$@")
    java -Xmx${ZK_HEAP:-2g} -cp "$zk_cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" > "$d/server.log" 2>&1 < /dev/null &
    record "$kind" $! $((cbase + i))
  done
}

start_vrk() {
  local kind=$1 cbase=$2 pbase=$3 ppbase=$4 i d args
  shift 4
  eval "${kind//-/_}_addrs=()"
  for i in $(seq 1 "$servers"); do
    d=$(write_cfg "$kind" "$i" "$cbase" "$pbase" "$@")
    args=(serve --config "$d/zoo.cfg" --admin-addr off)
    if [ "${PPROF:-0}" = 1 ]; then
      args+=(--pprof-addr "127.0.0.1:$((ppbase + i))")
      echo "pprof of $kind server $i: http://127.0.0.1:$((ppbase + i))/debug/pprof/" >&2
    fi
    "$work/bin/vrkeeper" "${args[@]}" > "$d/server.log" 2>&1 < /dev/null &
    record "$kind" $! $((cbase + i))
  done
}

# leader_pid NAME: the pid of the cluster's leader (primary).
leader_pid() {
  local k
  for k in "${!names[@]}"; do
    if [[ ${names[$k]} == "$1"-* ]] && four srvr "${ports[$k]}" | grep -q "Mode: leader"; then
      echo "${pids[$k]}"; return 0
    fi
  done
  return 1
}

# rss_of NAME: each server's resident memory in MiB, space-separated.
rss_of() {
  local k out=""
  for k in "${!names[@]}"; do
    if [[ ${names[$k]} =~ ^$1-[0-9]+$ ]]; then
      out="$out $(( $(ps -o rss= -p "${pids[$k]}" 2>/dev/null || echo 0) / 1024 ))"
    fi
  done
  echo "${out# }"
}

# pids_of NAME: the cluster's server pids, comma-separated.
pids_of() {
  local k out=()
  for k in "${!names[@]}"; do
    [[ ${names[$k]} =~ ^$1-[0-9]+$ ]] && out+=("${pids[$k]}")
  done
  join "${out[@]}"
}

join() { local IFS=,; echo "$*"; }
