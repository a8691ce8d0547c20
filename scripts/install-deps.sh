#!/usr/bin/env bash
# Installs the system libraries Tessera links against, only when they are missing.
# Needs root (or sudo) for apt-get; does nothing when everything is already there.
set -euo pipefail
missing=()
for pkg in libopenblas-dev libhwloc-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install a Swift 6.1+ toolchain" >&2; exit 1; }
