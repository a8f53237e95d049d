#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# install: make install DESTDIR=... puts every file where it belongs and
# nothing else; the installed dns44 reads the installed dns44.conf, which
# shows every setting at its default and turns tproxy setup on; an
# existing dns44.conf is never overwritten, and an edited one survives
# make uninstall; make uninstall leaves no file behind.

: "${DNS44:?}" "${srcdir:?}" "${builddir:?}"
failed=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; failed=1; }

tmp=$(mktemp -d /tmp/dns44-install.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# make in the build tree, not as part of the make that runs this test.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    ${MAKE:-make} -C "$builddir" "$@"
}

# The installation directories, as the Makefile has them.
dirs=$(printf 'dns44-print-dirs:\n\t@echo sbindir=$(sbindir) sysconfdir=$(sysconfdir) mandir=$(mandir) systemdunitdir=$(systemdunitdir) sysusersdir=$(sysusersdir) tmpfilesdir=$(tmpfilesdir) initdir=$(initdir)\n' |
    mk -s -f Makefile -f - dns44-print-dirs) || { echo "FAIL make"; exit 1; }
eval "$dirs"
for v in sbindir sysconfdir mandir systemdunitdir sysusersdir tmpfilesdir \
    initdir; do
	eval "[ -n \"\${$v:-}\" ]" || { echo "FAIL no $v in the Makefile"; exit 1; }
done

expected="$sbindir/dns44
$sbindir/dns44ctl
$sbindir/dns44-tproxy
$sysconfdir/dns44.conf
$initdir/dns44
$mandir/man5/dns44.conf.5
$mandir/man8/dns44.8
$mandir/man8/dns44ctl.8
$systemdunitdir/dns44.service
$sysusersdir/dns44.conf
$tmpfilesdir/dns44.conf"

installed() {
	(cd "$dest" 2>/dev/null && find . ! -type d | sed 's/^\.//' | sort)
}

if ! mk install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL make install"
	exit 1
fi
ok "make install DESTDIR"

want=$(echo "$expected" | sort)
have=$(installed)
if [ "$want" = "$have" ]; then
	ok "the $(echo "$want" | wc -l) files, and nothing else"
else
	bad "installed files differ from the expected ones:"
	diff "$(printf '%s\n' "$want" >"$tmp/want"; echo "$tmp/want")" \
	    "$(printf '%s\n' "$have" >"$tmp/have"; echo "$tmp/have")"
fi
for f in "$sbindir/dns44" "$sbindir/dns44ctl" "$sbindir/dns44-tproxy" \
    "$initdir/dns44"; do
	[ -x "$dest$f" ] || bad "$f is not executable"
done
for f in "$sysconfdir/dns44.conf" "$systemdunitdir/dns44.service"; do
	[ -f "$dest$f" ] && [ ! -x "$dest$f" ] || bad "$f: mode"
done

# The installed binary and configuration; the paths inside the files.
conf=$dest$sysconfdir/dns44.conf
: >"$tmp/empty.conf"
defaults=$("$DNS44" -n -f "$tmp/empty.conf") || bad "dns44 -n on no settings"
# The sample turns the TPROXY plumbing on, and nothing else.
if out=$("$dest$sbindir/dns44" -n -f "$conf" 2>&1) &&
    [ "$out" = "$(printf '%s\ntproxy setup yes' "$defaults")" ]; then
	ok "installed dns44 -n -f installed dns44.conf: the defaults, tproxy on"
else
	bad "installed dns44 -n -f $conf:"
	echo "$out"
fi
# Every setting, uncommented, is at its default and none is missing; the
# metrics listener, off unless set, is shown as an example.
sed -n 's/^#\([a-z]\)/\1/p' "$conf" | grep -v '^metrics listen ' \
    >"$tmp/all.conf"
if out=$("$dest$sbindir/dns44" -n -f "$tmp/all.conf" 2>&1) &&
    [ "$out" = "$defaults" ]; then
	ok "dns44.conf: its commented settings are the defaults"
else
	bad "dns44.conf: uncommented, its settings are not the defaults:"
	echo "$out" | diff - "$(echo "$defaults" >"$tmp/d"; echo "$tmp/d")"
fi
echo "$defaults" | while read -r line; do
	grep -qxF "$line" "$tmp/all.conf" ||
	    { echo "FAIL dns44.conf lacks \"#$line\""; exit 1; }
done || failed=1
grep -q "^ExecStart=$sbindir/dns44 -d\$" \
    "$dest$systemdunitdir/dns44.service" &&
    grep -q "^DNS44=\${DNS44:-$sbindir/dns44}\$" "$dest$sbindir/dns44-tproxy" &&
    grep -q "^DNS44=\${DNS44:-$sbindir/dns44}\$" "$dest$initdir/dns44" &&
    grep -q "^DNS44_CONF=\${DNS44_CONF:-$sysconfdir/dns44.conf}\$" \
	"$dest$initdir/dns44" &&
    ok "unit and scripts run $sbindir/dns44" ||
    bad "unit or scripts do not use $sbindir/dns44"
db=$(echo "$defaults" | sed -n 's/^database "\(.*\)"$/\1/p')
grep -q "^d $db 0700 _dns44 _dns44 -\$" "$dest$tmpfilesdir/dns44.conf" &&
    ok "tmpfiles.d makes $db" || bad "tmpfiles.d lacks $db"

# An existing dns44.conf stays as it is, and an edited one survives
# uninstall; an unedited one goes.
echo "dns ttl 60" >>"$conf"
cp "$conf" "$tmp/edited"
mk install DESTDIR="$dest" >"$tmp/install2.log" 2>&1 ||
    bad "second make install"
cmp -s "$conf" "$tmp/edited" &&
    grep -q "keeping the existing" "$tmp/install2.log" &&
    ok "make install keeps an existing dns44.conf" ||
    bad "make install overwrote dns44.conf"
mk uninstall DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1 ||
    bad "make uninstall"
have=$(installed)
[ "$have" = "$sysconfdir/dns44.conf" ] && cmp -s "$conf" "$tmp/edited" &&
    ok "make uninstall leaves only the edited dns44.conf" ||
    bad "after make uninstall with an edited dns44.conf: $have"
rm -f "$conf"

mk install DESTDIR="$dest" >/dev/null 2>&1 || bad "third make install"
mk uninstall DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1 ||
    bad "make uninstall"
have=$(installed)
if [ -z "$have" ]; then
	ok "make uninstall leaves no file"
else
	bad "make uninstall left: $have"
fi
exit $failed
