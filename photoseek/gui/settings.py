"""The app's settings: platform conventions, or a file under ``--data-dir``.

Without ``--data-dir`` (or ``PHOTOSEEK_DATA_DIR``) settings live where the
platform keeps them (``QSettings`` native format: an ini file under
``~/.config/photoseek/`` on Linux, a plist on macOS, the registry on
Windows). With it, they live in ``DIR/settings.ini``, so a portable install
and every test keep their settings beside their library and never touch the
user's real configuration.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from photoseek.paths import AppPaths

HISTORY_LIMIT = 50
DEFAULT_THUMBNAIL_SIZE = 160
THUMBNAIL_SIZES = (96, 128, 160, 200, 256, 320)


class AppSettings:
    """Typed access to the app's settings (read and written on the GUI thread)."""

    def __init__(self, paths: AppPaths) -> None:
        if paths.origin:  # --data-dir or PHOTOSEEK_DATA_DIR: keep settings with the library
            self.file: Path | None = paths.data_dir / "settings.ini"
            self._store = QSettings(str(self.file), QSettings.Format.IniFormat)
        else:
            self.file = None
            self._store = QSettings("photoseek", "photoseek")

    def sync(self) -> None:
        """Write pending changes now."""
        self._store.sync()

    # -- helpers ------------------------------------------------------------------------

    def _bool(self, key: str, default: bool) -> bool:
        value = self._store.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def _int(self, key: str, default: int) -> int:
        try:
            return int(self._store.value(key, default))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default

    def _str(self, key: str, default: str) -> str:
        value = self._store.value(key, default)
        return str(value) if value is not None else default

    # -- search -------------------------------------------------------------------------

    @property
    def history(self) -> list[str]:
        """Past queries, most recent first."""
        value = self._store.value("search/history", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:HISTORY_LIMIT]

    def add_history(self, query: str) -> None:
        """Remember a query (moved to the front if it was there already)."""
        query = query.strip()
        if not query:
            return
        history = [query, *(q for q in self.history if q != query)][:HISTORY_LIMIT]
        self._store.setValue("search/history", history)

    def clear_history(self) -> None:
        """Forget every past query."""
        self._store.remove("search/history")

    # -- view ---------------------------------------------------------------------------

    @property
    def thumbnail_size(self) -> int:
        """Grid thumbnail size in logical pixels (one of :data:`THUMBNAIL_SIZES`)."""
        size = self._int("view/thumbnail_size", DEFAULT_THUMBNAIL_SIZE)
        return min(THUMBNAIL_SIZES, key=lambda s: abs(s - size))

    @thumbnail_size.setter
    def thumbnail_size(self, size: int) -> None:
        self._store.setValue("view/thumbnail_size", int(size))

    @property
    def preview_visible(self) -> bool:
        """Whether the preview pane is shown."""
        return self._bool("view/preview_visible", True)

    @preview_visible.setter
    def preview_visible(self, visible: bool) -> None:
        self._store.setValue("view/preview_visible", bool(visible))

    # -- behaviour ----------------------------------------------------------------------

    @property
    def close_to_tray(self) -> bool:
        """Closing the window keeps indexing in the system tray (where there is one)."""
        return self._bool("behaviour/close_to_tray", True)

    @close_to_tray.setter
    def close_to_tray(self, value: bool) -> None:
        self._store.setValue("behaviour/close_to_tray", bool(value))

    @property
    def close_explained(self) -> bool:
        """Whether the first close already said that photoseek keeps running in the tray."""
        return self._bool("behaviour/close_explained", False)

    @close_explained.setter
    def close_explained(self, value: bool) -> None:
        self._store.setValue("behaviour/close_explained", bool(value))

    @property
    def pause_on_battery(self) -> bool:
        """Indexing pauses while the computer runs on battery."""
        return self._bool("behaviour/pause_on_battery", True)

    @pause_on_battery.setter
    def pause_on_battery(self, value: bool) -> None:
        self._store.setValue("behaviour/pause_on_battery", bool(value))

    @property
    def cluster_address(self) -> str:
        """The Ray cluster the app's indexing embeds on ("": this computer), from the next start."""
        return self._str("indexing/cluster", "").strip()

    @cluster_address.setter
    def cluster_address(self, value: str) -> None:
        self._store.setValue("indexing/cluster", value.strip())

    @property
    def short_query_prompts(self) -> bool:
        """A one- or two-word search goes through the prompt templates, as a label (off:
        README, "Prompts for searches")."""
        return self._bool("search/short_query_prompts", False)

    @short_query_prompts.setter
    def short_query_prompts(self, value: bool) -> None:
        self._store.setValue("search/short_query_prompts", bool(value))

    # -- model --------------------------------------------------------------------------

    def model(
        self, default_arch: str, default_pretrained: str, default_device: str
    ) -> tuple[str, str, str]:
        """(architecture, pretrained, device), the defaults where nothing is stored."""
        return (
            self._str("model/arch", default_arch),
            self._str("model/pretrained", default_pretrained),
            self._str("model/device", default_device),
        )

    def set_device(self, device: str) -> None:
        """Store where the model runs (used from the next start)."""
        self._store.setValue("model/device", device)

    def set_model(self, arch: str, pretrained: str, device: str) -> None:
        """Store a model choice as versions before the library chose its model did (the
        app now reads ``model/arch`` and ``model/pretrained`` only where a library has
        never switched its model)."""
        self._store.setValue("model/arch", arch)
        self._store.setValue("model/pretrained", pretrained)
        self._store.setValue("model/device", device)

    # -- window -------------------------------------------------------------------------

    def window_state(self) -> tuple[bytes | None, bytes | None]:
        """The saved (geometry, state) of the main window."""
        geometry, state = self._store.value("window/geometry"), self._store.value("window/state")
        return (bytes(geometry) if geometry else None, bytes(state) if state else None)  # type: ignore[arg-type]

    def save_window_state(self, geometry: bytes, state: bytes) -> None:
        """Remember the main window's geometry and dock/splitter state."""
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)
