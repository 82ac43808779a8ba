#!/usr/bin/env bash
# End-to-end update through an INSTALLED subflash (npm install -g --prefix <prefix> subflash-*.tgz):
# keys and trust store, a gateway with two simulated modules, firmware, a signed release, the
# daemon (--check, then running with --simulate against the broker), `subflash publish --wait`, and
# the committed status read back from the broker; then a clean SIGTERM stop.
#
#   scripts/e2e-installed.sh <prefix> <broker-url> [node-binary]
#
# node-binary (default: node on PATH) runs the installed bin/subflash.mjs, to test other Node
# versions against the same installation. Uses nothing from the checkout: no tsx, no sources.
set -euo pipefail

prefix=${1:?usage: e2e-installed.sh <prefix> <broker-url> [node-binary]}
broker=${2:?usage: e2e-installed.sh <prefix> <broker-url> [node-binary]}
node=${3:-node}
bin="$prefix/lib/node_modules/subflash/bin/subflash.mjs"
[ -f "$bin" ] || { echo "e2e: no installed subflash at $bin" >&2; exit 1; }
prefix=$(cd "$prefix" && pwd)
bin="$prefix/lib/node_modules/subflash/bin/subflash.mjs"
sf() { "$node" "$bin" "$@"; }

work=$(mktemp -d)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -KILL "$daemon_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "e2e: FAILED: $*" >&2
  [ -f daemon.log ] && { echo "--- daemon log (last 30 lines)" >&2; tail -n 30 daemon.log >&2; }
  exit 1
}

gateway="e2e-$$-$RANDOM"
topic="e2e-$RANDOM"
echo "e2e: subflash $(sf --version) on Node $("$node" --version), broker $broker, gateway $gateway"

sf keygen --out keys/release --trust trust.json >/dev/null
cat >gateway.yaml <<YAML
gateway: { id: $gateway, groups: [e2e] }
mqtt: { url: "$broker", prefix: $topic }
trustStore: trust.json
stateDir: state
modules:
  - id: power
    type: power-board
    device: f103
    transport: { usart: { path: /dev/ttyS1, baud: 115200 } }
    entry: { method: gpio, chip: gpiochip0, boot0: 17, nrst: 27 }
    layout: { kind: single, slot: { address: 0x08000000, size: 0x10000 } }
    health: { kind: uart-probe }
  - id: motor
    type: motor-board
    device: g071
    transport: { usart: { path: /dev/ttyS2, baud: 115200 } }
    entry: { method: app-command, send: "!boot\n" }
    layout:
      kind: ab
      slotA: { address: 0x08004000, size: 0xe000 }
      slotB: { address: 0x08012000, size: 0xe000 }
      bootRecord: { copies: [0x08002000, 0x08002800] }
    health: { kind: uart-probe }
YAML
cat >sims.yaml <<'YAML'
timing: false
modules:
  power: { flashFile: sim/power.flash, factory: { version: "1.0.0" } }
  motor: { flashFile: sim/motor.flash, factory: { version: "1.0.0" } }
YAML
mkdir -p sim firmware
sf demo firmware firmware/power-1.1.0.bin --app-version 1.1.0 >/dev/null
sf demo firmware firmware/motor-1.1.0.bin --app-version 1.1.0 >/dev/null
cat >release.yaml <<YAML
release: e2e-1.1.0
targets: { gateways: [$gateway] }
policy: { atomicity: all-or-nothing, parallelism: 2 }
modules:
  power-board:
    version: 1.1.0
    device: f103
    slots:
      single: { file: firmware/power-1.1.0.bin, address: 0x08000000 }
  motor-board:
    version: 1.1.0
    device: g071
    slots:
      a: { file: firmware/motor-1.1.0.bin, address: 0x08004000 }
      b: { file: firmware/motor-1.1.0.bin, address: 0x08012000 }
YAML
sf release create release.yaml --key keys/release.key --out e2e.bundle >/dev/null

sf daemon --config gateway.yaml --simulate sims.yaml --check || fail "daemon --check"

# Not through sf(): $! must be the daemon itself, not a subshell, for the SIGTERM below.
"$node" "$bin" daemon --config gateway.yaml --simulate sims.yaml >daemon.log 2>&1 &
daemon_pid=$!
for _ in $(seq 600); do
  grep -q '"gateway ready"' daemon.log 2>/dev/null && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited before it was ready"
  sleep 0.1
done
grep -q '"gateway ready"' daemon.log || fail "the daemon was not ready within 60 s"
# Under systemd the lines carry <priority> prefixes; here (no JOURNAL_STREAM) they are plain JSON.
head -c 1 daemon.log | grep -q '{' || fail "daemon log lines are not JSON"

sf publish e2e.bundle --broker "$broker" --prefix "$topic" --gateway "$gateway" --wait --timeout 120 ||
  fail "publish --wait"

sf status --broker "$broker" --prefix "$topic" --gateway "$gateway" --json >status.json || fail "status"
"$node" -e '
  // Somewhere in the status document, each module is committed on 1.1.0 (keyed by its id, or with module: id).
  const status = JSON.parse(require("fs").readFileSync("status.json", "utf8"));
  const seen = new Set();
  const walk = (value, key) => {
    if (!value || typeof value !== "object") return;
    const id = typeof value.module === "string" ? value.module : key;
    if (value.state === "committed" && value.version === "1.1.0") seen.add(id);
    for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(status, "");
  for (const m of ["power", "motor"])
    if (!seen.has(m)) { console.error(`e2e: ${m} is not committed on 1.1.0 in: ${JSON.stringify(status).slice(0, 800)}`); process.exit(1); }
' || fail "status is not committed 1.1.0 for both modules"

kill -TERM "$daemon_pid"
code=0
wait "$daemon_pid" || code=$?
daemon_pid=
[ "$code" -eq 0 ] || fail "the daemon exited $code on SIGTERM"
[ ! -e state/.lock ] || fail "the daemon left its state lock behind"
echo "e2e: OK: bundle e2e-1.1.0 committed on power and motor through the installed subflash (Node $("$node" --version))"
