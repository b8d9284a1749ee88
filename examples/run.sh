#!/usr/bin/env bash
# Builds examples/ in the repository's reactor (the library from its target/, nothing installed)
# and runs it: dev certificates, HelloServer on a free UDP port, one HelloClient call, SIGTERM.
# Used by .ci/run; exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -B -ntp -q -Pexamples -pl examples -am package -DskipTests
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mvn -B -ntp -q -pl certs compile exec:java -Dexec.skip=false -Dexec.args="$work/certs"
cp="examples/target/classes:$(cat examples/target/classpath.txt)"

java -cp "$cp" dev.grpcquic.example.HelloServer 0 "$work/certs/server.pem" "$work/certs/server.key" \
  > "$work/server.out" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/server.out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.out"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "HelloServer did not start"; cat "$work/server.out"; exit 1; }

reply=$(java -cp "$cp" dev.grpcquic.example.HelloClient 127.0.0.1 "$port" "$work/certs/ca.pem" CI)
echo "$reply"
[ "$reply" = "Hello, CI" ]

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "example ok"
