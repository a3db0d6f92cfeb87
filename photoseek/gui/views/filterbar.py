"""The filter bar: folder, date range, file type, relevance cut-off, sort, count, thumbnail size.

Everything is within reach in one row, never in a dialog. ``changed`` fires
when a filter changes (the cut-off slider only once it rests, so a drag does
not start a search per pixel). While browsing, the cut-off and the sort have
no meaning and are disabled; folder, dates and type apply to browsing too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSlider,
    QToolButton,
    QWidget,
)

from photoseek.core.records import Folder
from photoseek.core.search.formats import FORMATS
from photoseek.core.search.searcher import SearchFilters
from photoseek.gui.settings import DEFAULT_THUMBNAIL_SIZE, THUMBNAIL_SIZES
from photoseek.pathtext import display_path

__all__ = ["FilterBar", "OptionalDateEdit"]

DEFAULT_CUTOFF = 0.20
_SLIDER_STEPS = 100  # the cut-off slider moves in hundredths, from -1.00 to 1.00
_SLIDER_REST_MS = 200

_FORMAT_LABELS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "heif": "HEIF / HEIC",
    "avif": "AVIF",
    "webp": "WebP",
    "tiff": "TIFF",
    "gif": "GIF",
    "bmp": "BMP",
    "jp2": "JPEG 2000",
    "pnm": "PNM",
    "ico": "Icon",
}


class OptionalDateEdit(QDateEdit):
    """A date that may be unset (it then reads "any"); the calendar opens on today."""

    UNSET = QDate(1800, 1, 1)

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setMinimumDate(self.UNSET)
        self.setSpecialValueText(placeholder)
        self.setDate(self.UNSET)

    def value(self) -> date | None:
        """The date, or None when unset."""
        chosen = self.date()
        return None if chosen == self.UNSET else date(chosen.year(), chosen.month(), chosen.day())

    def set_value(self, value: date | None) -> None:
        """Set the date (None: unset)."""
        self.setDate(self.UNSET if value is None else QDate(value.year, value.month, value.day))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        if self.value() is None and self.calendarWidget() is not None:
            today = QDate.currentDate()
            self.calendarWidget().setCurrentPage(today.year(), today.month())


class FilterBar(QWidget):
    """Filters that apply to the search (and, where they can, to browsing)."""

    changed = Signal()
    thumbnail_size_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._folders: list[Path | None] = [None]
        self._make_widgets()
        self._layout()
        self._connect()
        self.set_browsing(True)

    # -- building ---------------------------------------------------------------------

    def _make_widgets(self) -> None:
        self.folder_combo = QComboBox(self)
        self.folder_combo.setAccessibleName("Folder")
        self.folder_combo.setToolTip("Only photos in this folder")
        self.folder_combo.addItem("All folders")
        self.folder_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.folder_combo.setMinimumContentsLength(14)
        self.date_from = OptionalDateEdit("from any date", self)
        self.date_from.setAccessibleName("From date")
        self.date_from.setToolTip("Taken on or after (EXIF date, else the file's date)")
        self.date_to = OptionalDateEdit("to any date", self)
        self.date_to.setAccessibleName("To date")
        self.date_to.setToolTip("Taken on or before")
        self.clear_dates = QToolButton(self)
        self.clear_dates.setText("×")
        self.clear_dates.setAccessibleName("Clear dates")
        self.clear_dates.setToolTip("Any date")
        self.tag_combo = QComboBox(self)
        self.tag_combo.setAccessibleName("Tag")
        self.tag_combo.setToolTip("Only photos with this tag (zero-shot: photoseek tag)")
        self.tag_combo.addItem("Any tag", None)
        self.tag_combo.setVisible(False)  # until the library has tags
        self.hidden_check = QCheckBox("Show hidden", self)
        self.hidden_check.setAccessibleName("Show hidden photos")
        self.hidden_check.setToolTip("Also show the photos the content filter hides")
        self.hidden_check.setVisible(False)  # until the content filter hides something
        self.type_combo = QComboBox(self)
        self.type_combo.setAccessibleName("File type")
        self.type_combo.addItem("Any type", None)
        for fmt in sorted(FORMATS, key=lambda f: (f != "jpeg", f != "heif", f != "png", f)):
            self.type_combo.addItem(_FORMAT_LABELS.get(fmt, fmt.upper()), fmt)
        self.cutoff_check = QCheckBox("Cut-off", self)
        self.cutoff_check.setAccessibleName("Relevance cut-off")
        self.cutoff_check.setToolTip("Show every photo at or above this relevance, and how many")
        self.cutoff_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.cutoff_slider.setAccessibleName("Cut-off value")
        self.cutoff_slider.setRange(-_SLIDER_STEPS, _SLIDER_STEPS)
        self.cutoff_slider.setValue(round(DEFAULT_CUTOFF * _SLIDER_STEPS))
        self.cutoff_slider.setPageStep(5)
        self.cutoff_slider.setFixedWidth(100)
        self.cutoff_value = QDoubleSpinBox(self)
        self.cutoff_value.setAccessibleName("Cut-off score")
        self.cutoff_value.setRange(-1.0, 1.0)
        self.cutoff_value.setDecimals(2)
        self.cutoff_value.setSingleStep(1 / _SLIDER_STEPS)
        self.cutoff_value.setPrefix("≥ ")
        self.cutoff_value.setValue(DEFAULT_CUTOFF)
        self.cutoff_value.setToolTip("Cosine similarity; about 0.2 to 0.3 for a good text match")
        self.sort_combo = QComboBox(self)
        self.sort_combo.setAccessibleName("Sort")
        self.sort_combo.addItem("Most relevant", "relevance")
        self.sort_combo.addItem("Newest first", "date")
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName("Result count")
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setAccessibleName("Thumbnail size")
        self.size_slider.setToolTip("Thumbnail size (Ctrl + / Ctrl -)")
        self.size_slider.setRange(0, len(THUMBNAIL_SIZES) - 1)
        self.size_slider.setPageStep(1)
        self.size_slider.setFixedWidth(80)
        self.size_slider.setValue(THUMBNAIL_SIZES.index(DEFAULT_THUMBNAIL_SIZE))
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(_SLIDER_REST_MS)

    def _layout(self) -> None:
        flow = FlowLayout(self)
        flow.setContentsMargins(0, 0, 0, 0)
        groups = (
            (self.folder_combo,),
            (self.date_from, QLabel("–", self), self.date_to, self.clear_dates),
            (self.type_combo,),
            (self.tag_combo, self.hidden_check),
            (self.cutoff_check, self.cutoff_slider, self.cutoff_value),
            (self.sort_combo,),
            (self.count_label, self.size_slider),
        )
        for group in groups:  # a group stays on one line when the bar wraps
            flow.addWidget(_group(self, group))

    def _connect(self) -> None:
        self.folder_combo.currentIndexChanged.connect(self._changed)
        self.date_from.dateChanged.connect(self._changed)
        self.date_to.dateChanged.connect(self._changed)
        self.clear_dates.clicked.connect(self.clear_date_range)
        self.type_combo.currentIndexChanged.connect(self._changed)
        self.tag_combo.currentIndexChanged.connect(self._changed)
        self.hidden_check.toggled.connect(self._changed)
        self.sort_combo.currentIndexChanged.connect(self._changed)
        self.cutoff_check.toggled.connect(self._cutoff_toggled)
        self.cutoff_slider.valueChanged.connect(self._cutoff_moved)
        self.cutoff_value.valueChanged.connect(self._cutoff_typed)
        self._rest.timeout.connect(self._changed)
        self.size_slider.valueChanged.connect(
            lambda i: self.thumbnail_size_changed.emit(THUMBNAIL_SIZES[i])
        )

    # -- public -----------------------------------------------------------------------

    def set_folders(self, folders: list[Folder]) -> None:
        """Offer the library's folders (the selection is kept where it still exists)."""
        chosen = self.folder()
        self.folder_combo.blockSignals(True)
        self.folder_combo.clear()
        self.folder_combo.addItem("All folders")
        self._folders = [None]
        for folder in folders:
            offline = "" if folder.status == "ok" else " (offline)"
            self.folder_combo.addItem(display_path(folder.path) + offline)
            self._folders.append(folder.path)
        self.folder_combo.blockSignals(False)
        still_there = chosen is None or any(
            chosen == top or top in chosen.parents for top in self.folder_paths()
        )
        if still_there:
            self.set_folder(chosen, notify=False)
        else:  # its folder left the library: show everything
            self.set_folder(None, notify=False)
            self._changed()

    def set_folder(self, folder: Path | None, *, notify: bool = True) -> None:
        """Show only ``folder`` (a library folder or a folder inside one; None: all)."""
        if folder is not None and folder not in self._folders:
            self.folder_combo.blockSignals(True)
            self.folder_combo.addItem(display_path(folder))
            self._folders.append(folder)
            self.folder_combo.blockSignals(False)
        index = self._folders.index(folder)
        if index == self.folder_combo.currentIndex():
            return
        self.folder_combo.blockSignals(not notify)
        self.folder_combo.setCurrentIndex(index)
        self.folder_combo.blockSignals(False)

    def folder(self) -> Path | None:
        """The folder shown (None: all)."""
        index = self.folder_combo.currentIndex()
        return self._folders[index] if 0 <= index < len(self._folders) else None

    def folder_paths(self) -> list[Path]:
        """The folders the combo offers."""
        return [f for f in self._folders if f is not None]

    def filters(self) -> SearchFilters:
        """The filters as the core takes them."""
        fmt = self.type_combo.currentData()
        tag = self.tag()
        return SearchFilters(
            folder=self.folder(),
            date_from=self.date_from.value(),
            date_to=self.date_to.value(),
            formats=frozenset([fmt]) if fmt else None,
            tags=frozenset([tag]) if tag else None,
        )

    def apply(self, filters: SearchFilters, min_score: float | None) -> None:
        """Show ``filters`` and the cut-off (a saved search being run again)."""
        self.set_folder(filters.folder, notify=False)
        self.set_date_range(filters.date_from, filters.date_to)
        self.set_format(next(iter(filters.formats)) if filters.formats else None)
        self.set_tag(next(iter(sorted(filters.tags))) if filters.tags else None)
        self.set_min_score(min_score)

    def set_tags(self, counts: list[tuple[str, int]]) -> None:
        """Offer the library's tags with their counts (the choice is kept while it exists)."""
        chosen = self.tag()
        self.tag_combo.blockSignals(True)
        self.tag_combo.clear()
        self.tag_combo.addItem("Any tag", None)
        for name, count in counts:
            self.tag_combo.addItem(f"{name} ({count:,})", name)
        self.tag_combo.setVisible(bool(counts))
        index = self.tag_combo.findData(chosen) if chosen else 0
        self.tag_combo.setCurrentIndex(max(0, index))
        self.tag_combo.blockSignals(False)
        if chosen and index < 0:  # its tag is gone: show every photo
            self._changed()

    def tag(self) -> str | None:
        """The tag shown (None: any)."""
        data = self.tag_combo.currentData()
        return str(data) if data else None

    def set_tag(self, name: str | None) -> None:
        """Show only photos with the tag ``name`` (None: any)."""
        index = self.tag_combo.findData(name) if name else 0
        if index < 0:
            self.tag_combo.addItem(name, name)
            index = self.tag_combo.count() - 1
        self.tag_combo.setCurrentIndex(index)

    def set_hidden_count(self, count: int) -> None:
        """How many photos the content filter hides (the toggle shows only when some are)."""
        self.hidden_check.setText(f"Show hidden ({count:,})")
        self.hidden_check.setVisible(count > 0 or self.hidden_check.isChecked())

    def show_hidden(self) -> bool:
        """Whether hidden photos are shown too."""
        return self.hidden_check.isChecked()

    def set_format(self, fmt: str | None) -> None:
        """Show only one format (None: any)."""
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(fmt)))

    def set_date_range(self, start: date | None, end: date | None) -> None:
        """Show only photos from ``start`` to ``end`` (inclusive; None: open)."""
        self.date_from.blockSignals(True)
        self.date_from.set_value(start)
        self.date_from.blockSignals(False)
        self.date_to.set_value(end)
        self._changed()

    def clear_date_range(self) -> None:
        """Any date."""
        self.set_date_range(None, None)

    def min_score(self) -> float | None:
        """The relevance cut-off, or None when off."""
        if not self.cutoff_check.isChecked():
            return None
        return self.cutoff_slider.value() / _SLIDER_STEPS

    def set_min_score(self, value: float | None) -> None:
        """Set the cut-off (rounded to hundredths; None turns it off) and apply it now."""
        if value is not None:
            self._show_cutoff(round(value * _SLIDER_STEPS))
        self.cutoff_check.blockSignals(True)
        self.cutoff_check.setChecked(value is not None)
        self.cutoff_check.blockSignals(False)
        self._enable_cutoff()
        self._changed()

    def sort(self) -> str:
        """``relevance`` or ``date``."""
        return str(self.sort_combo.currentData())

    def set_sort(self, sort: str) -> None:
        """Sort by ``relevance`` or ``date``."""
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(sort)))

    def set_browsing(self, browsing: bool) -> None:
        """Browsing is newest first and has no relevance: sort and cut-off are disabled."""
        tip = "Type a query to sort by relevance or set a cut-off" if browsing else ""
        for widget in (self.sort_combo, self.cutoff_check):
            widget.setEnabled(not browsing)
            widget.setStatusTip(tip)
        self._enable_cutoff()

    def _enable_cutoff(self) -> None:
        """The cut-off's value can be set while it is on (and a query is shown)."""
        on = self.cutoff_check.isEnabled() and self.cutoff_check.isChecked()
        self.cutoff_slider.setEnabled(on)
        self.cutoff_value.setEnabled(on)

    def set_count(self, text: str) -> None:
        """Show the result count."""
        self.count_label.setText(text)

    def set_thumbnail_size(self, size: int) -> None:
        """Move the size slider to ``size`` (no signal)."""
        nearest = min(range(len(THUMBNAIL_SIZES)), key=lambda i: abs(THUMBNAIL_SIZES[i] - size))
        self.size_slider.blockSignals(True)
        self.size_slider.setValue(nearest)
        self.size_slider.blockSignals(False)

    # -- internals --------------------------------------------------------------------

    def _changed(self, *_: object) -> None:
        self._rest.stop()
        self.clear_dates.setEnabled(bool(self.date_from.value() or self.date_to.value()))
        self.changed.emit()

    def _cutoff_toggled(self, on: bool) -> None:
        self._enable_cutoff()
        self._changed()

    def _cutoff_moved(self, steps: int) -> None:
        self._show_cutoff(steps)
        if self.cutoff_check.isChecked():
            self._rest.start()  # a search once the slider rests

    def _cutoff_typed(self, value: float) -> None:
        self._show_cutoff(round(value * _SLIDER_STEPS))
        if self.cutoff_check.isChecked():
            self._rest.start()

    def _show_cutoff(self, steps: int) -> None:
        for widget, value in (
            (self.cutoff_slider, steps),
            (self.cutoff_value, steps / _SLIDER_STEPS),
        ):
            widget.blockSignals(True)
            widget.setValue(value)  # type: ignore[attr-defined]
            widget.blockSignals(False)


class FlowLayout(QLayout):
    """Widgets left to right, wrapping onto more lines when the bar is narrow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        """Place the items (or only measure); return the height they need."""
        margins, gap = self.contentsMargins(), max(self.spacing(), 6)
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, line = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if line and x + hint.width() > area.right() + 1:
                x, y, line = area.x(), y + line + gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + gap
            line = max(line, hint.height())
        return y + line - rect.y() + margins.bottom()


def _group(parent: QWidget, widgets: tuple[QWidget, ...]) -> QWidget:
    """Widgets side by side in one box."""
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(3)
    for widget in widgets:
        row.addWidget(widget)
    return box
