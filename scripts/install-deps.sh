#!/usr/bin/env bash
# Installs the Debian packages the build and every test suite need, when run as root and they are missing.
# The Swift toolchain itself is expected at /opt/swift (or on PATH). What needs what:
#   build                  libsystemd-dev libsqlite3-dev pkg-config
#   journal tests          systemd (systemd-journald, journalctl, systemd-cat), util-linux (unshare), bsdutils (logger)
#   system test            systemd-container (systemd-nspawn), util-linux (nsenter, setpriv), procps, curl, jq,
#                          python3 (its webhook receiver), binutils (objdump, strip), make, xz-utils (make deb)
#   disk-fault tests       mount (mount, umount, losetup), util-linux (findmnt), e2fsprogs (mkfs.ext4), coreutils (truncate)
#   bad state file tests   sqlite3 (the command line shell)
#   webhook tests          python3 + python3-jsonschema (Tests/Support/webhook-check.py: independent signature
#                          check and deploy/webhook-payload.schema.json), openssl (self-signed certificate)
#   benchmarks             wrk; curl + jq (the shell-loop baseline of CPU per check); perf (linux-perf, optional: the
#                          idle profiles and wake-up counts are skipped without it)
#   make deb, packaging    debhelper (dh, dh_installsystemd, dh_installman, dh_shlibdeps), dpkg-dev
#                          (dpkg-parsechangelog), fakeroot (make deb as non-root), lintian (the packaging
#                          test), man-db + groff-base (man page tests), bash-completion (completion test)
#   metrics tests          prometheus (only for promtool: check metrics/rules, test rules),
#                          python3-prometheus-client (the reference parser of the text format)
set -eu
packages=(
    libsystemd-dev libsqlite3-dev pkg-config
    systemd systemd-container util-linux bsdutils mount e2fsprogs coreutils procps
    python3 python3-jsonschema sqlite3 openssl curl jq binutils make xz-utils wrk
    debhelper dpkg-dev fakeroot lintian man-db groff-base bash-completion
    prometheus python3-prometheus-client
)
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
# The prometheus package is here for promtool only: never leave its server enabled or running.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
    systemctl disable prometheus.service >/dev/null 2>&1 || true
    systemctl stop prometheus.service >/dev/null 2>&1 || true
fi
