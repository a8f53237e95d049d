#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# Runs socktest in a namespace of its own with the virtual range routed
# locally, as dns44-tproxy does on a gateway.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new
ip -n "$NS" route add local 172.24.0.0/16 dev lo || die "local route"
ip netns exec "$NS" "$builddir/regress/sock/socktest"
