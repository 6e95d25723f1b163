#!/usr/bin/env bash
# Prints the bin directory of the oldest Node this project supports (package.json engines.node;
# docs/decisions.md), installed from the npm registry on first use. CI puts it first on PATH,
# so the tests run on the oldest supported Node whatever Node the machine has.
set -euo pipefail
exec bash "$(dirname "$0")/node-from-npm.sh" 22.15.0
