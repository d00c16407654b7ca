#!/bin/sh
# install-deps.sh — installs what leakwatch needs from Debian packages (run as root).
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --test   also what the test suite uses (cmocka, tshark, ndpiReader,
#                                    python3-yaml, minified JavaScript for the benign corpus,
#                                    clang + libFuzzer for the fuzz stage, tcpreplay + ethtool +
#                                    iproute2 for the live-capture test, redis-server +
#                                    rsyslog for the event sink test)
set -eu
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential cmake pkg-config libpcap-dev libhyperscan-dev libndpi-dev libyaml-dev
zlib1g-dev libbrotli-dev libhttp-parser-dev libssl-dev libhiredis-dev python3"
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs libcmocka-dev tshark libndpi-bin python3-yaml libjs-jquery libjs-underscore
    clang libclang-rt-14-dev tcpreplay ethtool iproute2 redis-server rsyslog"
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (apt-get install needs it)" >&2
    exit 1
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
