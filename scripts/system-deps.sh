#!/usr/bin/env bash
# Install the Debian packages the tests and the benchmark read: stock Lua 5.1 and 5.3
# (luac5.1, luac5.3: the benchmark's baselines) and real-world Lua libraries for
# the differential tests.
set -euo pipefail
packages=(lua5.1 lua5.3 lua-penlight luarocks lua-busted lua-ldoc lua-luassert lua-argparse
          lua-dkjson lua-inspect lua-say lua-cliargs lua-lpeg lua-posix lua-socket
          lua-logging lua-markdown lua-json lua-moses lua-mediator)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# lua5.3 takes over `lua`/`luac` (higher alternatives priority); keep 5.1 the default
update-alternatives --set lua-interpreter /usr/bin/lua5.1 >/dev/null
update-alternatives --set lua-compiler /usr/bin/luac5.1 >/dev/null
