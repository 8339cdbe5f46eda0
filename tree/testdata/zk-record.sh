#!/usr/bin/env bash
# Re-records the golden files of package tree against a real ZooKeeper 3.8
# (Debian's package). It starts a private standalone server on its own port
# with the settings the scripts need, runs the golden tests with -record, and
# stops the server. CI never runs this: the golden files are checked in.
#
#   tree/testdata/zk-record.sh            record every script
#   tree/testdata/zk-record.sh start|stop only start or stop the server
#
# Settings beyond the anchor's (../../shared/anchors/zk-ensemble):
#   zookeeper.extendedTypesEnabled=true    TTL nodes
#   znode.container.checkIntervalMs=100    container and TTL clean-up every 100 ms
#   ...superDigest=super:secret            the super user of the ACL scripts
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${ZK_RECORD_PORT:-22181}
base=${ZK_RECORD_DIR:-/tmp/vrkeeper-tree-zk}

classpath() {
  local cp=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar
  for j in slf4j-api slf4j-simple netty-handler netty-common netty-buffer netty-transport \
           netty-transport-native-epoll netty-transport-native-unix-common netty-codec netty-resolver \
           commons-cli metrics-core snappy-java; do
    [ -f /usr/share/java/$j.jar ] && cp=$cp:/usr/share/java/$j.jar
  done
  echo "$cp"
}

start() {
  stop
  rm -rf "$base"; mkdir -p "$base/data"
  cat > "$base/zoo.cfg" <<CFG
tickTime=2000
dataDir=$base/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
CFG
  nohup java -Xmx512m -Dzookeeper.admin.enableServer=false \
    -Dzookeeper.extendedTypesEnabled=true \
    -Dznode.container.checkIntervalMs=100 \
    '-Dzookeeper.DigestAuthenticationProvider.superDigest=super:lK75jTNcA+U9vtVEw5vB51mj/w4=' \
    -cp "$(classpath)" org.apache.zookeeper.server.ZooKeeperServerMain "$base/zoo.cfg" \
    > "$base/server.log" 2>&1 &
  echo $! > "$base/pid"
  for _ in $(seq 1 120); do
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf srvr >&3 && cat <&3" 2>/dev/null | grep -q Mode; then
      echo "ZooKeeper up on 127.0.0.1:$port"; return 0
    fi
    sleep 0.5
  done
  echo "ZooKeeper did not start; see $base/server.log" >&2; return 1
}

stop() {
  if [ -f "$base/pid" ]; then kill "$(cat "$base/pid")" 2>/dev/null || true; rm -f "$base/pid"; sleep 1; fi
}

case "${1:-record}" in
start) start ;;
stop) stop ;;
record)
  start
  trap stop EXIT
  go test ./tree -run 'TestGolden' -count=1 -record -zk "127.0.0.1:$port"
  ;;
*) echo "usage: $0 [record|start|stop]" >&2; exit 2 ;;
esac
