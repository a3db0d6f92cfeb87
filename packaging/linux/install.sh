#!/bin/sh
# Install photoseek for the current user (no root), from the unpacked release tarball.
#
#   ./install.sh [--prefix DIR]      DIR defaults to ~/.local
#
# Puts the bundle in DIR/lib/photoseek, a launcher DIR/bin/photoseek, the .desktop file in
# $XDG_DATA_HOME/applications and the icons in $XDG_DATA_HOME/icons/hicolor (XDG_DATA_HOME
# defaults to ~/.local/share). Installing again replaces the previous version; the library
# (photos' index, settings) is never touched. uninstall.sh (also copied to DIR/lib/photoseek)
# removes what this installs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix="$HOME/.local"
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

bundle="$here/photoseek"
[ -x "$bundle/photoseek" ] || { echo "install.sh: $bundle/photoseek not found" >&2; exit 1; }
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
target="$prefix/lib/photoseek"
bin="$prefix/bin"

# The bundle: copied beside the old one, then swapped in, so a failed copy leaves the old.
mkdir -p "$prefix/lib" "$bin"
rm -rf "$target.new"
cp -R "$bundle" "$target.new"
rm -rf "$target.old"
[ -e "$target" ] && mv "$target" "$target.old"
mv "$target.new" "$target"
rm -rf "$target.old"
cp "$here/uninstall.sh" "$target/uninstall.sh"  # so the unpacked folder can go

# The launcher: a link, so `photoseek` on PATH is the bundle's own executable.
ln -sfn "$target/photoseek" "$bin/photoseek"

# Icons: the PNG sizes and the SVG, under the names the .desktop file uses.
icons="$target/_internal/resources/icons"
for png in "$icons"/photoseek-*.png; do
    size=${png##*-}; size=${size%.png}
    mkdir -p "$data_home/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$data_home/icons/hicolor/${size}x${size}/apps/photoseek.png"
done
mkdir -p "$data_home/icons/hicolor/scalable/apps"
cp "$target/_internal/resources/photoseek.svg" "$data_home/icons/hicolor/scalable/apps/photoseek.svg"

# The .desktop file, pointing at the installed executable by its full path (a desktop
# session's PATH often lacks ~/.local/bin).
mkdir -p "$data_home/applications"
sed -e "s|^Exec=photoseek|Exec=$target/photoseek|" -e "s|^TryExec=photoseek|TryExec=$target/photoseek|" \
    "$target/_internal/resources/photoseek.desktop" > "$data_home/applications/photoseek.desktop"
chmod 644 "$data_home/applications/photoseek.desktop"

# Refresh the desktop's caches where the tools exist (they are optional).
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$data_home/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t "$data_home/icons/hicolor" || true
fi

echo "photoseek $("$target/photoseek" --version | cut -d' ' -f2) installed in $target"
case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "note: $bin is not on your PATH; add it to run 'photoseek' from a terminal" ;;
esac
echo "start it from the applications menu, or run: photoseek"
