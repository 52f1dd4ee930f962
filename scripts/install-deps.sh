#!/usr/bin/env bash
# Installs the Debian packages graft builds against, when any is missing.
# Needs root (or sudo) the first time: apt-get update && apt-get install -y ...
set -euo pipefail
packages=(pkg-config libopenblas-dev libedit-dev zlib1g-dev libpng-dev libjpeg-dev tmux)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "graft: installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
elif command -v sudo >/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
    echo "graft: please install as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
