#!/usr/bin/env bash
# Builds the Debian package meterbridge (debian/, debhelper) from this tree and
# checks it with lintian: no errors, and no warning that is not overridden in
# debian/meterbridge.lintian-overrides with its reason.
#   scripts/package.sh [OUTDIR]     the .deb goes to OUTDIR (default ./dist)
# Installs missing Debian packages first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-dist}")
bash scripts/setup.sh

# dpkg-buildpackage writes its results next to the source tree; build from a
# copy in a scratch directory so that neither the parent directory nor this
# tree's build/ is touched (and a build/ of this tree is not copied in).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/meterbridge"
git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$work/meterbridge"
cd "$work/meterbridge"
echo "== dpkg-buildpackage"
# ccache (CMakeLists.txt) then hits across builds made in different scratch directories.
export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1
DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc)}" \
  dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || {
  tail -50 "$work/build.log"
  echo "package: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
cd "$work"
mkdir -p "$out"
cp meterbridge_*.deb "$out/"
deb=$(ls "$out"/meterbridge_*.deb | sort -V | tail -1)
echo "== lintian $deb"
# --fail-on error,warning: an overridden warning does not count; anything else fails.
lintian --fail-on error,warning --display-info "$work"/meterbridge_*.deb
echo "package: $deb"
