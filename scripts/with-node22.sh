#!/usr/bin/env bash
# Runs a command with Node 22 (the project's baseline, pinned below) first on PATH,
# for a machine whose own Node is older, and for CI, which tests on exactly this version:
#
#   scripts/with-node22.sh npm ci
#   scripts/with-node22.sh npm start
#   . scripts/with-node22.sh          # bash, no arguments: this shell's PATH gets it (as .ci/run does)
#
# Node comes from the npm registry, so nothing but npm is needed: the platform
# package node-<os>-<arch> carries the official binary in its bin/. (The `node`
# package itself only fetches that package from a preinstall script, which npm 11
# does not run by default; the platform package needs no script.) It is kept in
# $COUNTERSIGN_NODE_CACHE (default ~/.cache/countersign), one folder per version and
# platform, and reused while its binary answers the pinned version.
# Published for linux-x64, linux-arm64 and darwin-x64; not for darwin-arm64 (use nvm,
# fnm or brew's node@22 there).

NODE22_VERSION=22.23.3

node22_dir() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "with-node22: no Node package for $(uname -s); install Node $NODE22_VERSION yourself" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "with-node22: no Node package for $(uname -m); install Node $NODE22_VERSION yourself" >&2; return 1 ;;
  esac
  NODE22_PACKAGE="node-$os-$arch"
  NODE22_DIR="${COUNTERSIGN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/countersign}/$NODE22_PACKAGE-$NODE22_VERSION"
}

node22_install() {
  node22_dir || return 1
  if [ "$("$NODE22_DIR/bin/node" --version 2>/dev/null)" = "v$NODE22_VERSION" ]; then return 0; fi
  local parent tmp
  parent="$(dirname "$NODE22_DIR")"
  mkdir -p "$parent" || return 1
  # Installed beside its final place and renamed, so an interrupted download never looks installed.
  tmp="$(mktemp -d "$parent/.install.XXXXXX")" || return 1
  echo "with-node22: installing $NODE22_PACKAGE@$NODE22_VERSION into $NODE22_DIR" >&2
  if ! npm install --prefix "$tmp" --ignore-scripts --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "$NODE22_PACKAGE@$NODE22_VERSION" >&2; then
    rm -rf "$tmp"
    echo "with-node22: could not install $NODE22_PACKAGE@$NODE22_VERSION from the npm registry" >&2
    return 1
  fi
  rm -rf "$NODE22_DIR"
  mv "$tmp/node_modules/$NODE22_PACKAGE" "$NODE22_DIR" && rm -rf "$tmp" || return 1
  if [ "$("$NODE22_DIR/bin/node" --version 2>/dev/null)" != "v$NODE22_VERSION" ]; then
    echo "with-node22: $NODE22_DIR/bin/node does not run or is not v$NODE22_VERSION" >&2
    return 1
  fi
}

# npm and npx on the PATH are scripts run by `node` from the PATH, so they run on Node 22 too.
node22_install || { return 1 2>/dev/null || exit 1; }
export PATH="$NODE22_DIR/bin:$PATH"
hash -r 2>/dev/null

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-node22.sh <command> [args…]   (e.g. scripts/with-node22.sh npm test)" >&2
    exit 64
  fi
  exec "$@"
fi
