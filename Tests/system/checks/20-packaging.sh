# Packaging (issue 10, sections 3 and 4), sourced by Tests/system/run.sh at step 12b with the service
# running its 4-machine config: lintian on the .deb, the version in the package and in the binary,
# both man pages, the bash completion, `make install` of pages and completions, and an upgrade
# (reinstall) that try-restarts the running service. Leaves the service running with its config.

# lintian, Debian's own package checker: no error and no warning (overrides explained in
# debian/akua-driftd.lintian-overrides).
if ! command -v lintian >/dev/null 2>&1; then
    not_ok "lintian is installed (scripts/install-deps.sh)"
elif lint=$(lintian --fail-on error,warning "$DEB" 2>&1); then
    ok "lintian --fail-on error,warning $(basename "$DEB"): no error, no warning"
else
    not_ok "lintian --fail-on error,warning $(basename "$DEB")" "$lint"
fi

# One version everywhere: debian/changelog, the package, the binary's --version.
changelog_version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version 2>/dev/null)
deb_version=$(dpkg-deb -f "$DEB" Version)
version_out=$(in_ct akua-driftd --version 2>&1)
mapfile -t version_lines <<< "$version_out"
if [ -n "$deb_version" ] && [ "$deb_version" = "$changelog_version" ] && [ "${version_lines[0]}" = "$deb_version" ]; then
    ok "version $deb_version in debian/changelog, the .deb and akua-driftd --version"
else
    not_ok "one version in debian/changelog, the .deb and --version" \
        "changelog '$changelog_version', deb '$deb_version', --version: $version_out"
fi
# The release build stamps revision and date: the revision is a commit of this checkout, HEAD or
# one before it (commits may land while the test runs), with -dirty for uncommitted changes.
revision=$(sed -n 's/^revision: //p' <<< "$version_out")
built=$(sed -n 's/^built: //p' <<< "$version_out")
swift_line=$(sed -n 's/^swift: //p' <<< "$version_out")
built_epoch=$(date -u -d "$built" +%s 2>/dev/null)
commit=${revision%-dirty}
if [ "${#version_lines[@]}" -eq 4 ] && [[ $commit =~ ^[0-9a-f]{7,40}$ ]] \
    && git -C "$ROOT" merge-base --is-ancestor "$commit" HEAD 2>/dev/null \
    && [ -n "$built_epoch" ] && [ "$built_epoch" -le "$(date +%s)" ] && [[ $swift_line == "Swift version "* ]]; then
    ok "--version of the packaged binary: revision $revision, built $built, $swift_line"
else
    not_ok "--version shows the stamped revision (a commit of HEAD's history), build date and Swift version" \
        "$version_out"
fi

# The example config is a conffile: dpkg keeps an operator's changes on upgrade and removes it on purge.
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles 2>/dev/null)
if grep -qx /etc/akua-driftd/config.toml <<< "$conffiles"; then
    ok "/etc/akua-driftd/config.toml is a conffile of the package"
else
    not_ok "/etc/akua-driftd/config.toml is a conffile of the package" "conffiles: $conffiles"
fi

# Man pages, rendered by man inside the container, with the sections they promise.
man8=$(in_ct man -P cat akua-driftd 2>&1)
missing_sections=""
for section in NAME SYNOPSIS COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES SIGNALS EXAMPLES; do
    grep -qx "$section" <<< "$man8" || missing_sections+=" [$section]"
done
if [ -z "$missing_sections" ] && grep -q 'akua-driftd status' <<< "$man8"; then
    ok "man akua-driftd: $(grep -c . <<< "$man8") lines with NAME ... EXAMPLES"
else
    not_ok "man akua-driftd renders with every section" "missing:$missing_sections; $(head -n 5 <<< "$man8")"
fi
man5=$(in_ct man -P cat 5 akua-driftd.toml 2>&1)
missing_sections=""
for section in NAME DESCRIPTION '\[api\]' '\[schedule\]' '\[state\]' '\[log\]' '\[\[webhook\]\]' '\[\[machine\]\]'; do
    grep -qx "$section" <<< "$man5" || missing_sections+=" $section"
done
if [ -z "$missing_sections" ] && grep -q 'refresh_before_expiry' <<< "$man5" && grep -q '1h30m' <<< "$man5"; then
    ok "man 5 akua-driftd.toml: every table, the keys and the duration syntax"
else
    not_ok "man 5 akua-driftd.toml renders with every table" "missing:$missing_sections; $(head -n 5 <<< "$man5")"
fi

# Completions: in the standard places; bash loads its script and completes machine ids from the
# installed config, read as the operator would (no secrets needed).
check "completions installed for bash, zsh and fish" in_ct test -s /usr/share/bash-completion/completions/akua-driftd \
    -a -s /usr/share/zsh/vendor-completions/_akua-driftd -a -s /usr/share/fish/vendor_completions.d/akua-driftd.fish
complete_spec=$(in_ct bash -c 'source /usr/share/bash-completion/completions/akua-driftd && complete -p akua-driftd' 2>&1)
if [ "$complete_spec" = "complete -o filenames -F _akua-driftd akua-driftd" ]; then
    ok "bash loads the completion script: $complete_spec"
else
    not_ok "bash loads the completion script" "$complete_spec"
fi
completed_ids=$(in_ct bash -c '
    source /usr/share/bash-completion/completions/akua-driftd || exit 1
    COMP_LINE="akua-driftd check mch_"; COMP_POINT=${#COMP_LINE}
    COMP_WORDS=(akua-driftd check mch_); COMP_CWORD=2; COMPREPLY=()
    _akua-driftd akua-driftd mch_ check
    printf "%s\n" "${COMPREPLY[@]}"' 2>&1 | sort | tr '\n' ' ')
expected_ids=$(printf '%s\n' "${MACHINES[@]}" "$EXTRA_ID" | sort | tr '\n' ' ')
if [ "$completed_ids" = "$expected_ids" ]; then
    ok "bash completes 'akua-driftd check mch_<TAB>' with the config's machine ids: $completed_ids"
else
    not_ok "bash completes check's machine ids from /etc/akua-driftd/config.toml" "got '$completed_ids', expected '$expected_ids'"
fi

# make install puts pages and completions where man and the shells look; uninstall takes them away.
if [ -z "${SYSTEM_TEST_DEB:-}" ] && [ -x "$ROOT/.build-release/release/akua-driftd" ]; then
    pkg_dest=$WORK/destdir-packaging
    pkg_files=(usr/share/man/man8/akua-driftd.8 usr/share/man/man5/akua-driftd.toml.5
        usr/share/bash-completion/completions/akua-driftd usr/share/zsh/vendor-completions/_akua-driftd
        usr/share/fish/vendor_completions.d/akua-driftd.fish)
    all_present() { local f; for f in "${pkg_files[@]}"; do [ -s "$pkg_dest/$f" ] || return 1; done; }
    none_present() { local f; for f in "${pkg_files[@]}"; do [ ! -e "$pkg_dest/$f" ] || return 1; done; }
    if make -C "$ROOT" -f deploy/install.mk -o release-driftd install DESTDIR="$pkg_dest" > "$WORK/install-packaging.log" 2>&1 \
        && all_present && make -C "$ROOT" -f deploy/install.mk uninstall DESTDIR="$pkg_dest" >> "$WORK/install-packaging.log" 2>&1 \
        && none_present; then
        ok "make install DESTDIR=: man pages and bash/zsh/fish completions in the standard places; uninstall removes them"
    else
        not_ok "make install / uninstall of man pages and completions" "$(tail -n 15 "$WORK/install-packaging.log"; find "$pkg_dest" -type f | sort)"
    fi
else
    note "make install of man pages and completions not checked: SYSTEM_TEST_DEB given or no release binary"
fi

# An upgrade (here: the same package again) try-restarts the running service and enables nothing.
# The restart goes through deb-systemd-invoke, which honours policy-rc.d: a Docker-built host (as
# the container's /usr overlay shows it) forbids every start with `exit 101`; lift that for this
# step only (the overlay vanishes with the container).
policy_rc=/usr/sbin/policy-rc.d
if in_ct test -e "$policy_rc"; then
    in_ct mv "$policy_rc" "$policy_rc.systest"
    note "moved the container's $policy_rc aside for the upgrade (it forbids service restarts)"
fi
enabled_before=$(in_ct systemctl is-enabled "$UNIT" 2>/dev/null)
pid_before=$(prop MainPID)
upgraded_and_restarted() { prop_is ActiveState active && [ "$(prop MainPID)" != "$pid_before" ] && [ "$(prop MainPID)" != 0 ]; }
if in_ct dpkg -i "/mnt/x/$DEB_NAME" > "$WORK/upgrade.log" 2>&1 && poll 60 upgraded_and_restarted \
    && poll 30 status_is '^watching 4 machines: ' && [ "$(in_ct systemctl is-enabled "$UNIT" 2>/dev/null)" = "$enabled_before" ]; then
    ok "dpkg -i over the installed package restarted the running service (MainPID $pid_before -> $(prop MainPID)), is-enabled still $enabled_before"
else
    not_ok "an upgrade restarts the running service and enables nothing" \
        "$(cat "$WORK/upgrade.log"; in_ct systemctl show -p MainPID,ActiveState,StatusText "$UNIT"; in_ct systemctl is-enabled "$UNIT")"
fi
if in_ct test -e "$policy_rc.systest"; then in_ct mv "$policy_rc.systest" "$policy_rc"; fi
