#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# unit: systemd-analyze verify accepts the generated dns44.service (its
# ExecStart and ExecReload pointed at the built binaries, since nothing is
# installed), the unit has the settings dns44 relies on, and
# systemd-sysusers and systemd-tmpfiles, run on a root directory of the
# test's own, make the user and the directories from the sysusers.d and
# tmpfiles.d files.

: "${DNS44:?}" "${srcdir:?}" "${builddir:?}"
failed=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; failed=1; }

if ! command -v systemd-analyze >/dev/null 2>&1 &&
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends systemd >/dev/null 2>&1
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze is not installed"
	exit 77
fi

tmp=$(mktemp -d /tmp/dns44-unit.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
unit=$builddir/etc/dns44.service
[ -s "$unit" ] || { echo "FAIL $unit was not generated"; exit 1; }

# The unit as it would run the built binary; its man pages where man(1)
# finds them, for Documentation=.
dns44=$(cd "$(dirname "$DNS44")" && pwd)/$(basename "$DNS44")
dns44ctl=$builddir/src/dns44ctl/dns44ctl
sed -e "s|^ExecStart=[^ ]*|ExecStart=$dns44|" \
    -e "s|^ExecReload=[^ ]*|ExecReload=$dns44ctl|" "$unit" >"$tmp/dns44.service"
mkdir -p "$tmp/man/man5" "$tmp/man/man8"
cp "$builddir/man/dns44.conf.5" "$tmp/man/man5/"
cp "$builddir/man/dns44.8" "$builddir/man/dns44ctl.8" "$tmp/man/man8/"
if command -v man >/dev/null 2>&1; then
	manopt=
else
	manopt=--man=no
fi
out=$(MANPATH=$tmp/man systemd-analyze verify $manopt "$tmp/dns44.service" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	ok "systemd-analyze verify"
else
	bad "systemd-analyze verify (status $rc):"
	echo "$out"
fi

# has KEY=VALUE: the unit has exactly this line.
has() {
	grep -qxF -- "$1" "$unit" && ok "$1" || bad "no line $1 in the unit"
}
# Type=notify with libsystemd, which the daemon then speaks; simple
# without, and no watchdog then.
if grep -q 'HAVE_LIBSYSTEMD 1' "$builddir/config.h"; then
	has "Type=notify"
	has "WatchdogSec=30s"
else
	has "Type=simple"
	has "WatchdogSec=0"
fi
has "NotifyAccess=main"
# A reload is over, or has failed, when dns44ctl returns.
grep -q '^ExecReload=/.*/dns44ctl reload$' "$unit" &&
    ok "ExecReload=.../dns44ctl reload" || bad "ExecReload"
has "KillMode=mixed"
has "Restart=on-failure"
has "NoNewPrivileges=yes"
has "ProtectSystem=strict"
has "ProtectHome=yes"
has "PrivateTmp=yes"
has "RuntimeDirectory=dns44"
grep -q '^ExecStart=/.*/dns44 -d$' "$unit" && ok "ExecStart=.../dns44 -d" ||
    bad "ExecStart"
# StateDirectory= would chown the map to root at each start.
grep -q '^StateDirectory=' "$unit" && bad "StateDirectory= is set" ||
    ok "no StateDirectory="
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | sort |
    tr '\n' ' ')
want="CAP_CHOWN CAP_DAC_READ_SEARCH CAP_FOWNER CAP_NET_ADMIN \
CAP_NET_BIND_SERVICE CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT "
[ "$caps" = "$want" ] && ok "CapabilityBoundingSet: $caps" ||
    bad "CapabilityBoundingSet: $caps"

# What the daemon writes is writable: its database and the directory of
# its control socket.
: >"$tmp/empty.conf"
defaults=$("$DNS44" -n -f "$tmp/empty.conf") || bad "dns44 -n"
db=$(echo "$defaults" | sed -n 's/^database "\(.*\)"$/\1/p')
ctl=$(echo "$defaults" | sed -n 's/^control socket "\(.*\)"$/\1/p')
has "ReadWritePaths=$db"
has "ReadWritePaths=$(dirname "$ctl")"

# sysusers.d and tmpfiles.d, applied to a root of our own.
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null 2>&1 &&
    command -v systemd-tmpfiles >/dev/null 2>&1; then
	root=$tmp/root
	mkdir -p "$root/etc"
	systemd-sysusers --root="$root" "$srcdir/etc/dns44.sysusers" \
	    >"$tmp/log" 2>&1 || { bad "systemd-sysusers:"; cat "$tmp/log"; }
	uid=$(awk -F: '$1 == "_dns44" { print $3 }' "$root/etc/passwd")
	grep -q '^_dns44:x:[0-9]*:[0-9]*:dns44 daemon:/nonexistent:/usr/sbin/nologin$' \
	    "$root/etc/passwd" && ok "sysusers.d: _dns44 (uid $uid)" ||
	    bad "sysusers.d: no _dns44 in $(cat "$root/etc/passwd")"
	systemd-tmpfiles --root="$root" --create \
	    "$builddir/etc/dns44.tmpfiles" >"$tmp/log" 2>&1 ||
	    { bad "systemd-tmpfiles:"; cat "$tmp/log"; }
	empty=$(echo "$defaults" | sed -n 's/^proxy chroot "\(.*\)"$/\1/p')
	[ "$(stat -c '%a %u' "$root$db" 2>/dev/null)" = "700 $uid" ] &&
	    ok "tmpfiles.d: $db, 0700, _dns44" ||
	    bad "tmpfiles.d: $db: $(ls -ld "$root$db" 2>&1)"
	[ "$(stat -c '%a %u' "$root$empty" 2>/dev/null)" = "755 0" ] &&
	    ok "tmpfiles.d: $empty, 0755, root" ||
	    bad "tmpfiles.d: $empty: $(ls -ld "$root$empty" 2>&1)"
else
	echo "skipped: sysusers.d and tmpfiles.d (needs root and systemd)"
fi
exit $failed
