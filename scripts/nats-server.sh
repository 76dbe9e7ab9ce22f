#!/usr/bin/env bash
# Makes sure k8ts has a nats-server it can trust with the cluster state: version 2.10 or later.
#
# Older servers (Debian 12 ships 2.9.10) can leave the three copies of a replicated stream
# different after the stream leader is killed with SIGKILL (a message duplicated on one copy,
# later sequences shifted), which no client of the stream can repair; the store's crash test
# (integration/store/crash.test.ts) finds it about every second run on 2.9.10 and never on
# 2.10.27 or 2.15.1.
#
# Order:
#   1. $NATS_SERVER_BIN, when set, is used as it is (checked, never replaced);
#   2. a nats-server on PATH (or /usr/sbin) that is new enough is used as it is;
#   3. otherwise Debian 13 (trixie)'s nats-server package is downloaded by apt-get itself,
#      with private state under .tools/apt (so the machine's apt configuration is not
#      touched and no root is needed), checked against the signed archive index, and unpacked
#      into .tools/nats-server; .tools/bin/nats-server points at it. The k8ts CLI and the test
#      kit look there before PATH.
# K8TS_DEBIAN_MIRROR overrides the archive (default http://deb.debian.org/debian).
# Prints the path of the nats-server to use on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_MAJOR=2
MIN_MINOR=10
SUITE=trixie
MIRROR="${K8TS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
TOOLS="$PWD/.tools"

# "nats-server: v2.10.27" -> 0 when at least MIN_MAJOR.MIN_MINOR.
new_enough() {
  local v
  v="$("$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -n1)"
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt "$MIN_MAJOR" ] || { [ "$1" -eq "$MIN_MAJOR" ] && [ "$2" -ge "$MIN_MINOR" ]; }
}

version_of() { "$1" --version 2>/dev/null | head -n1; }

if [ -n "${NATS_SERVER_BIN:-}" ]; then
  if [ ! -x "$NATS_SERVER_BIN" ]; then
    echo "nats-server: NATS_SERVER_BIN=$NATS_SERVER_BIN is not an executable" >&2
    exit 1
  fi
  new_enough "$NATS_SERVER_BIN" || echo "nats-server: warning: NATS_SERVER_BIN is $(version_of "$NATS_SERVER_BIN"); k8ts needs $MIN_MAJOR.$MIN_MINOR or later to survive a killed stream leader" >&2
  echo "$NATS_SERVER_BIN"
  exit 0
fi

if [ -x "$TOOLS/bin/nats-server" ] && new_enough "$TOOLS/bin/nats-server"; then
  echo "nats-server: $(version_of "$TOOLS/bin/nats-server") in .tools" >&2
  echo "$TOOLS/bin/nats-server"
  exit 0
fi

for candidate in "$(command -v nats-server 2>/dev/null || true)" /usr/sbin/nats-server /usr/local/bin/nats-server; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && new_enough "$candidate"; then
    echo "nats-server: $(version_of "$candidate") at $candidate" >&2
    echo "$candidate"
    exit 0
  fi
done

if [ ! -r "$KEYRING" ]; then
  echo "nats-server: need nats-server $MIN_MAJOR.$MIN_MINOR or later; to fetch Debian's package the Debian archive keyring ($KEYRING, package debian-archive-keyring) must be installed, or set NATS_SERVER_BIN" >&2
  exit 1
fi

arch="$(dpkg --print-architecture)"
apt_dir="$TOOLS/apt"
rm -rf "$apt_dir"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d" "$apt_dir/download"
echo "deb [arch=$arch signed-by=$KEYRING] $MIRROR $SUITE main" >"$apt_dir/etc/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/etc/sources.list.d"
  -o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
  -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
  -o "Acquire::Languages=none"
  -o "APT::Architectures=$arch"
)
echo "nats-server: fetching nats-server from Debian $SUITE ($MIRROR) into .tools" >&2
apt-get -qq "${apt_opts[@]}" update >&2
(cd "$apt_dir/download" && apt-get -qq "${apt_opts[@]}" download "nats-server/$SUITE" >&2)
deb="$(ls "$apt_dir"/download/nats-server_*.deb | head -n1)"
rm -rf "$TOOLS/nats-server"
mkdir -p "$TOOLS/nats-server" "$TOOLS/bin"
dpkg-deb -x "$deb" "$TOOLS/nats-server"
ln -sf ../nats-server/usr/sbin/nats-server "$TOOLS/bin/nats-server"
rm -rf "$apt_dir"
if ! new_enough "$TOOLS/bin/nats-server"; then
  echo "nats-server: the fetched package holds $(version_of "$TOOLS/bin/nats-server"), older than $MIN_MAJOR.$MIN_MINOR" >&2
  exit 1
fi
echo "nats-server: $(version_of "$TOOLS/bin/nats-server") from $(basename "$deb") in .tools" >&2
echo "$TOOLS/bin/nats-server"
