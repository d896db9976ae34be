#!/bin/bash
# deps.sh - make sure the Debian packages recloser needs are installed.
#
# Needed to build (gcc make libc6-dev libinih-dev), to test (curl python3,
# perl for prove, procps, iproute2 for ss), to demo (openssl) and to bench
# (wrk hyperfine).  Quiet when everything is present.  As root it installs
# what is missing; otherwise it prints the exact command and exits 1.
set -eu

PKGS="gcc make libc6-dev libinih-dev curl python3 perl procps iproute2 openssl wrk hyperfine"

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
apt-get update -q </dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null
