#!/usr/bin/env bash
# Install Renode for the Renode backend and suites: Mono from apt when missing, a Renode *portable* package
# unpacked under .renode/ (the tarball named by the argument or TINYML_RENODE_PACKAGE; upstream's
# renode-<version>.linux-portable*.tar.gz from https://github.com/renode/renode/releases has the same layout),
# and a separate venv with renode-test's own Python requirements (Renode 1.15.3 pins robotframework 6.1,
# which clashes with the project's 7.x). Idempotent: an unchanged package is not unpacked again.
# Prints the path of the `renode` launcher on its last line.
#
# Usage: scripts/install_renode.sh [PACKAGE.tar.xz|.tar.gz]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGE="${1:-${TINYML_RENODE_PACKAGE:-}}"
DEST="${TINYML_RENODE_DIR:-$ROOT/.renode}"
say() { echo "[renode] $*" >&2; }
die() { echo "[renode] error: $*" >&2; exit 2; }

[ -n "$PACKAGE" ] || die "no package given: pass a Renode portable tarball (e.g. ../shared/renode/renode-1.15.3-portable-mono.tar.xz, or renode-*.linux-portable*.tar.gz from https://github.com/renode/renode/releases) or set TINYML_RENODE_PACKAGE"
[ -f "$PACKAGE" ] || die "$PACKAGE does not exist; pass the path of a Renode portable tarball"
tar -tf "$PACKAGE" >/dev/null 2>&1 || die "$PACKAGE is not a readable tar archive (corrupt or not a Renode package); download it again"

if ! command -v mono >/dev/null 2>&1; then
  say "installing Mono (apt-get install mono-complete, ~240 MB)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq mono-complete >/dev/null \
    || die "apt-get install mono-complete failed; Renode's Mono build needs it"
fi

stamp="$DEST/.package-stamp"
want="$(sha256sum "$PACKAGE" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "unpacking $(basename "$PACKAGE") into $DEST"
  rm -rf "$DEST.tmp"
  mkdir -p "$DEST.tmp"
  tar -xf "$PACKAGE" -C "$DEST.tmp" || die "could not unpack $PACKAGE"
  launcher="$(find "$DEST.tmp" -maxdepth 2 -type f -name renode -perm -u+x | head -n 1)"
  [ -n "$launcher" ] || die "$PACKAGE holds no executable 'renode' launcher at its top level: not a Renode portable package"
  rm -rf "$DEST"
  mv "$DEST.tmp" "$DEST"
  echo "$want" > "$stamp"
fi
launcher="$(find "$DEST" -maxdepth 2 -type f -name renode -perm -u+x | head -n 1)"
pkgdir="$(dirname "$launcher")"
version="$(timeout 120 "$launcher" --version 2>&1 | head -n 1)" || die "$launcher --version failed: $version"
case "$version" in
  Renode*) ;;
  *) die "$launcher --version printed '$version', not a Renode version: corrupt package?" ;;
esac

# renode-test's own requirements, in their own venv (their robotframework pin differs from ours).
tvenv="$DEST/test-venv"
treq="$pkgdir/tests/requirements.txt"
if [ -f "$treq" ]; then
  rstamp="$tvenv/.req-stamp"
  rwant="$(cat "$treq" "$pkgdir"/tools/*/requirements.txt 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$rstamp" ] || [ "$(cat "$rstamp")" != "$rwant" ]; then
    say "installing renode-test's Python requirements into $tvenv"
    python3 -m venv "$tvenv"
    (cd "$pkgdir/tests" && "$tvenv/bin/python" -m pip install -q -r requirements.txt) \
      || die "pip could not install $treq"
    echo "$rwant" > "$rstamp"
  fi
fi
say "ok: $version ($launcher)"
echo "$launcher"
