#!/bin/sh
# Remove what install.sh installed for the current user.
#
#   ~/.local/lib/photoseek/uninstall.sh [--purge]     (the installed copy), or
#   ./uninstall.sh [--prefix DIR] [--purge]           (from the unpacked tarball)
#
# The installed copy knows its prefix; elsewhere it defaults to ~/.local.
# --purge also deletes photoseek's library (catalog, index, thumbnails, logs, settings) and
# the downloaded model weights: the default folders of the README's "Where data lives" (a
# library kept with --data-dir elsewhere stays). Without it they stay, so a later install
# finds the library as it was. A login service installed with
# `photoseek service install` is removed first (through the bundle, while it is still there).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
case "$here" in
    */lib/photoseek) prefix=${here%/lib/photoseek} ;;
    *) prefix="$HOME/.local" ;;
esac
purge=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --purge) purge=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

data_home=${XDG_DATA_HOME:-$HOME/.local/share}
target="$prefix/lib/photoseek"

if [ -x "$target/photoseek" ]; then
    "$target/photoseek" service uninstall >/dev/null 2>&1 || true
fi

rm -rf "$target"
if [ -L "$prefix/bin/photoseek" ]; then
    rm -f "$prefix/bin/photoseek"
fi
rm -f "$data_home/applications/photoseek.desktop"
for icon in "$data_home"/icons/hicolor/*/apps/photoseek.png "$data_home/icons/hicolor/scalable/apps/photoseek.svg"; do
    rm -f "$icon"
done
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$data_home/applications" || true
fi

if [ "$purge" = 1 ]; then
    # platformdirs' Linux locations for the app "photoseek" (see README, Where data lives)
    rm -rf "${XDG_DATA_HOME:-$HOME/.local/share}/photoseek" \
           "${XDG_CACHE_HOME:-$HOME/.cache}/photoseek" \
           "${XDG_CONFIG_HOME:-$HOME/.config}/photoseek" \
           "${XDG_STATE_HOME:-$HOME/.local/state}/photoseek"
    echo "photoseek and its library removed"
else
    echo "photoseek removed; its library stays (uninstall.sh --purge removes it too)"
fi
