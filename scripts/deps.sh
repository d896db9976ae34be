#!/bin/bash
# deps.sh - make sure the Debian packages recloser needs are installed.
#
# Needed to build (gcc make libc6-dev libinih-dev; for the dashboard
# libmicrohttpd-dev, libjs-chart.js, whose Chart.js is embedded into the
# CLI, xxd to embed it and pkg-config), to test (curl python3 nodejs,
# perl for prove, procps, iproute2 for ss, prometheus for promtool, chromium
# for the dashboard's browser test, driven by nodejs through its DevTools pipe, tmux to
# drive the interactive and live views, man-db and groff-base to render the
# man pages; the runtimes whose default timeouts tests/80-timeouts-runtimes.t
# bounds: openjdk-17-jre-headless (its module image has jdk.compiler, so
# `java File.java` runs without a JDK), ruby, php-cli, redis-tools for
# redis-cli, postgresql-client for psql, wget; for the HTTPS clients of
# tests/81-tls.t python3-requests, libssl-dev and libgnutls28-dev to build
# its OpenSSL and GnuTLS clients, and postgresql for a PostgreSQL server with SSL of its own; the package's
# own cluster stays stopped, see below; php-curl and php-pgsql, PHP
# extensions loaded with RTLD_DEEPBIND, for tests/82-deepbind.t), to demo
# (openssl) and to
# bench (wrk hyperfine, and nginx: the bench runs its own nginx on loopback,
# from its own prefix; haproxy: its own HAProxy hop in front of that nginx,
# from a config of its own).  Quiet when everything is present.  As root it
# installs what is missing; otherwise it prints the exact command and exits 1.
#
# Debian's prometheus package (we only want its /usr/bin/promtool), its
# nginx packages (we only want /usr/sbin/nginx) and its haproxy package (we
# only want /usr/sbin/haproxy) would start a server from their postinst:
# while they are installed, a policy-rc.d that answers 101 ("action
# forbidden") keeps every service stopped.  An existing policy-rc.d is left
# as it is; if it let a system nginx or haproxy start anyway, that server is
# stopped again.
set -eu

PKGS="gcc make libc6-dev libinih-dev libmicrohttpd-dev libjs-chart.js xxd pkg-config chromium curl python3 perl procps iproute2 openssl wrk hyperfine
      prometheus tmux man-db groff-base nginx libcurl4-openssl-dev python3-pycurl nodejs
      clang libclang-rt-14-dev llvm-14
      openjdk-17-jre-headless ruby php-cli redis-tools postgresql-client wget
      python3-requests libssl-dev libgnutls28-dev postgresql php-curl php-pgsql haproxy"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
missing=${missing# }

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "recloser: missing Debian packages: $missing" >&2
	echo "run: sudo apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi

echo "recloser: installing missing Debian packages: $missing" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# recloser deps.sh: start no service while installing\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -q </dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null
case " $missing " in
*" nginx "*)
	# the system nginx, if the install started one: the bench needs none
	if [ -s /run/nginx.pid ] && /usr/sbin/nginx -s quit 2>/dev/null; then
		echo "recloser: stopped the system nginx the install started" >&2
	fi
	;;
esac
case " $missing " in
*" haproxy "*)
	# the system haproxy, if the install started one: the bench runs its
	# own.  Not through invoke-rc.d: the policy-rc.d above forbids a stop
	# as well as a start.  Under systemd the unit (Restart=always) would
	# bring a killed haproxy back, so systemd stops it; otherwise (the init
	# script's) the pid file names the process to end.
	if [ -d /run/systemd/system ] && systemctl is-active -q haproxy 2>/dev/null; then
		systemctl stop haproxy && echo "recloser: stopped the system haproxy the install started" >&2
	elif [ -s /run/haproxy.pid ] && kill "$(cat /run/haproxy.pid)" 2>/dev/null; then
		echo "recloser: stopped the system haproxy the install started" >&2
	fi
	;;
esac
