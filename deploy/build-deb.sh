#!/usr/bin/env bash
# Builds dist/akua-driftd_VERSION_ARCH.deb from an already built release binary,
# with dpkg-deb only. Depends: is computed from the libraries the binary links
# (objdump -p NEEDED, resolved with ldd, mapped to packages with dpkg -S and to
# minimum versions with the packages' shlibs files).
#
# usage: deploy/build-deb.sh BINARY EXAMPLE_CONFIG OUTDIR [VERSION]
set -euo pipefail

bin=${1:?usage: build-deb.sh BINARY EXAMPLE_CONFIG OUTDIR [VERSION]}
config=${2:?missing EXAMPLE_CONFIG}
outdir=${3:?missing OUTDIR}
version=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() { echo "build-deb: $*" >&2; exit 1; }
[ -x "$bin" ] || die "no executable at $bin (run the release build first)"
[ -f "$config" ] || die "no example config at $config"
for tool in dpkg-deb dpkg-query objdump ldd md5sum; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

# Version: explicit, else what the binary says (`akua-driftd --version`), else 0.1.0.
if [ -z "$version" ]; then
    version=$("$bin" --version 2>/dev/null | head -n1 | grep -Eo '[0-9][0-9A-Za-z.+~-]*' | head -n1 || true)
fi
version=${version:-0.1.0}
[[ $version =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || die "invalid Debian version '$version'"
arch=$(dpkg --print-architecture)

# --- Depends: from the binary's NEEDED entries ------------------------------
# Prints "package (>= version)" (from shlibs) or "package" for one soname.
dep_for_soname() {
    local soname=$1 path pkg name sover line
    path=$(ldd "$bin" | awk -v s="$soname" '$1 == s && $3 ~ /^\// { print $3; exit }')
    if [ -z "$path" ]; then
        # ld-linux is listed by ldd with its path as the first word.
        path=$(ldd "$bin" | awk -v s="$soname" '$1 ~ "/" s "$" { print $1; exit }')
    fi
    [ -n "$path" ] || die "cannot resolve $soname (ldd)"
    pkg=""
    for candidate in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr${path}"; do
        pkg=$(dpkg -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n1 | cut -d: -f1) || true
        [ -n "$pkg" ] && break
    done
    [ -n "$pkg" ] || die "no package owns $path ($soname)"
    # shlibs lines look like "libc 6 libc6 (>= 2.36)".
    if [[ $soname =~ ^(.+)\.so\.([0-9.]+)$ ]]; then
        name=${BASH_REMATCH[1]} sover=${BASH_REMATCH[2]}
        local shlibs
        for shlibs in /var/lib/dpkg/info/"$pkg":"$arch".shlibs /var/lib/dpkg/info/"$pkg".shlibs; do
            [ -f "$shlibs" ] || continue
            line=$(awk -v n="$name" -v v="$sover" '$1 == n && $2 == v { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$shlibs")
            if [ -n "$line" ]; then echo "$line"; return; fi
        done
    fi
    echo "$pkg"
}

# DEB_DEPENDS overrides the computation (only for packaging a stand-in that is no ELF file).
if [ -n "${DEB_DEPENDS:-}" ]; then
    depends_line=$DEB_DEPENDS
else
    mapfile -t needed < <(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }')
    [ "${#needed[@]}" -gt 0 ] || die "$bin has no NEEDED entries (static binary?)"
    declare -A seen=()
    depends=()
    for soname in "${needed[@]}"; do
        dep=$(dep_for_soname "$soname")
        key=${dep%% *}
        if [ -z "${seen[$key]:-}" ]; then
            seen[$key]=1
            depends+=("$dep")
        fi
    done
    depends_line=$(IFS=,; echo "${depends[*]}" | sed 's/,/, /g')
fi

# --- Tree -------------------------------------------------------------------
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkgroot=$stage/root
install -d -m 0755 "$pkgroot/DEBIAN" "$pkgroot/usr/bin" "$pkgroot/usr/lib/systemd/system" \
    "$pkgroot/usr/lib/systemd/catalog" "$pkgroot/etc/akua-driftd" "$pkgroot/usr/share/doc/akua-driftd"
install -m 0755 "$bin" "$pkgroot/usr/bin/akua-driftd"
strip --strip-unneeded "$pkgroot/usr/bin/akua-driftd" 2>/dev/null || true
install -m 0644 "$here/akua-driftd.service" "$pkgroot/usr/lib/systemd/system/akua-driftd.service"
install -m 0644 "$here/akua-driftd.catalog" "$pkgroot/usr/lib/systemd/catalog/akua-driftd.catalog"
install -m 0644 "$config" "$pkgroot/etc/akua-driftd/config.toml"
for doc in README.md LICENSE; do
    [ -f "$root/$doc" ] && install -m 0644 "$root/$doc" "$pkgroot/usr/share/doc/akua-driftd/$doc"
done
if [ -f "$root/LICENSE" ]; then
    install -m 0644 "$root/LICENSE" "$pkgroot/usr/share/doc/akua-driftd/copyright"
fi

installed_size=$(du -sk --exclude=DEBIAN "$pkgroot" | cut -f1)
cat > "$pkgroot/DEBIAN/control" <<EOF
Package: akua-driftd
Version: $version
Architecture: $arch
Maintainer: akua-driftd maintainers <root@localhost>
Installed-Size: $installed_size
Depends: $depends_line
Section: admin
Priority: optional
Description: Akua machine configuration drift watcher (systemd service)
 akua-driftd polls the Akua API for drift reports of the configured machines,
 records every state transition (in_sync, drifted, unknown) in the journal
 with structured DRIFT_* fields and a message catalog, and delivers it to
 webhooks signed per Standard Webhooks. It runs as a hardened Type=notify
 systemd service with a dynamic user. Installing the package enables and
 starts nothing: see /usr/share/doc/akua-driftd/README.md ("Install as a service").
EOF
echo /etc/akua-driftd/config.toml > "$pkgroot/DEBIAN/conffiles"

cat > "$pkgroot/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# Makes systemd and journald see the new unit and catalog. Enables and starts
# nothing; on upgrade, a running service is restarted onto the new binary.
set -e
if [ "$1" = configure ]; then
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
        if [ -n "$2" ]; then
            systemctl try-restart akua-driftd.service || true
        fi
    fi
    journalctl --update-catalog || true
fi
exit 0
EOF

cat > "$pkgroot/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# Stops the service before its binary goes away (not on upgrade).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop akua-driftd.service || true
fi
exit 0
EOF

cat > "$pkgroot/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# After removal: forget the unit and the catalog. On purge also drop the
# enablement symlink, the state (DynamicUser keeps it in
# /var/lib/private/akua-driftd, with /var/lib/akua-driftd a symlink to it)
# and the credential files the operator put into /etc/akua-driftd.
set -e
case "$1" in
    remove|purge)
        if [ -d /run/systemd/system ]; then
            systemctl daemon-reload || true
        fi
        journalctl --update-catalog || true
        ;;
esac
if [ "$1" = purge ]; then
    rm -f /etc/systemd/system/multi-user.target.wants/akua-driftd.service
    rm -rf /var/lib/private/akua-driftd
    rm -rf /var/lib/akua-driftd
    rm -f /etc/akua-driftd/token /etc/akua-driftd/webhook.secret
    rmdir /etc/akua-driftd 2>/dev/null || true
fi
exit 0
EOF
chmod 0755 "$pkgroot/DEBIAN/postinst" "$pkgroot/DEBIAN/prerm" "$pkgroot/DEBIAN/postrm"

(cd "$pkgroot" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print0 \
    | sort -z | xargs -0 md5sum | sed 's| \./| |') > "$pkgroot/DEBIAN/md5sums"

mkdir -p "$outdir"
out=$outdir/akua-driftd_${version}_${arch}.deb
# xz -1: 25 MB instead of 22 MB at the default level, in 8 s instead of 40 s (the binary
# carries the Swift runtime and Foundation's ICU data).
dpkg-deb --root-owner-group -Zxz -z1 --build "$pkgroot" "$out" >/dev/null
echo "built $out"
echo "  Depends: $depends_line"
