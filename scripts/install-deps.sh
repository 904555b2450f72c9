#!/usr/bin/env bash
# Installs the Debian packages the build and the test suites need, when run as root and they are missing.
# The Swift toolchain itself is expected at /opt/swift (or on PATH).
set -eu
packages=(libsystemd-dev libsqlite3-dev pkg-config systemd systemd-container python3 curl wrk jq binutils procps openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
fi
echo "install-deps: apt-get install -y ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
