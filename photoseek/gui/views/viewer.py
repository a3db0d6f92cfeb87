"""The viewer: one photo filling the pane, with zoom, fit, 1:1 and next/previous.

The photo is decoded at full resolution through core off the GUI thread; the
preview's (or the grid's) smaller picture stands in meanwhile, at the same
apparent size. Keys (while the viewer has focus, ahead of any window
shortcut): Ctrl + / Ctrl - (``QKeySequence.StandardKey.ZoomIn/ZoomOut``) and
the wheel zoom, Ctrl+0 fits, Ctrl+1 shows 1:1 (one image pixel per screen
pixel), Left/Right go to the previous/next result, Esc closes. Dragging pans.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photoseek.gui.models.results import ResultRow
from photoseek.gui.workers.thumbnails import ImageLoader
from photoseek.pathtext import display_path

__all__ = ["PhotoCanvas", "PhotoViewer"]

ZOOM_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 32.0


class PhotoCanvas(QGraphicsView):
    """A zoomable, pannable picture. ``zoom`` is screen pixels per image pixel."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self.setScene(self._scene)
        self._fitting = True
        self._natural_width = 0
        self.setAccessibleName("Photo")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(24, 24, 24))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    @property
    def zoom(self) -> float:
        """Screen pixels per pixel of the photo (1.0 is 1:1)."""
        pixmap = self._item.pixmap()
        if pixmap.isNull():
            return 1.0
        return self.transform().m11() / pixmap.devicePixelRatio() * self.devicePixelRatioF()

    @property
    def natural_width(self) -> int:
        """The width of the photo shown, in its own pixels (0 when none)."""
        return self._natural_width if self.has_picture() else 0

    @property
    def fitting(self) -> bool:
        """Whether the picture follows the view's size (fit mode)."""
        return self._fitting

    def has_picture(self) -> bool:
        """Whether a picture is shown."""
        return not self._item.pixmap().isNull()

    def set_picture(self, pixmap: QPixmap | None, natural_width: int | None = None) -> None:
        """Show ``pixmap`` as a photo ``natural_width`` pixels wide (default: the pixmap's).

        A small stand-in (a thumbnail) then takes the photo's full size on
        screen, and the sharp photo replacing it keeps the zoom and position.
        """
        new = QPixmap(pixmap) if pixmap is not None else QPixmap()
        if not new.isNull():
            new.setDevicePixelRatio(self.devicePixelRatioF())
        same_size = self._natural_width == (natural_width or new.width()) and self.has_picture()
        self._natural_width = natural_width or new.width()
        self._item.setPixmap(new)
        self._item.setScale(self._natural_width / new.width() if new.width() else 1.0)
        self._scene.setSceneRect(self._item.sceneBoundingRect())
        if self._fitting or not same_size or new.isNull():
            self.fit()
        else:
            self.zoom_changed.emit(self.zoom)

    def fit(self) -> None:
        """Fit the whole picture in the view (small pictures are not enlarged)."""
        self._fitting = True
        self.resetTransform()
        if self.has_picture():
            rect = self._item.sceneBoundingRect()
            view = self.viewport().rect()
            factor = min(view.width() / rect.width(), view.height() / rect.height(), 1.0)
            if factor > 0:
                self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom)

    def actual_size(self) -> None:
        """One image pixel per screen pixel."""
        self._fitting = False
        self.resetTransform()
        self.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float) -> None:
        """Zoom by ``factor`` (clamped), around the mouse when it is over the picture."""
        if not self.has_picture():
            return
        target = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM)
        factor = target / self.zoom
        self._fitting = False
        self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        """One step closer."""
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """One step further."""
        self.zoom_by(1 / ZOOM_STEP)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitting:
            self.fit()


class PhotoViewer(QWidget):
    """One photo at a time, filling the pane; Esc returns to the grid."""

    closed = Signal()
    step_requested = Signal(int)  # -1 previous, +1 next

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Photo viewer")
        self._row: ResultRow | None = None
        self._ticket = 0
        # (photo id, decoded size or None, error) of the photo shown, once decoded
        self.decoded: tuple[int, QSize | None, str] | None = None
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._image_loaded)
        self.canvas = PhotoCanvas(self)
        self.title = QLabel(self)
        self.title.setAccessibleName("Photo name")
        self.zoom_label = QLabel(self)
        self.zoom_label.setAccessibleName("Zoom")
        self.message = QLabel(self)
        self.message.setVisible(False)
        self._make_actions()
        self._make_keys()
        self._layout()
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))

    def _make_actions(self) -> None:
        def action(text: str, keys: str, slot: Callable[[], object]) -> QAction:
            act = QAction(text, self)
            act.setToolTip(f"{text} ({keys})")
            act.triggered.connect(lambda _checked=False: slot())
            return act

        self.previous_action = action("Previous", "Left", lambda: self.step_requested.emit(-1))
        self.next_action = action("Next", "Right", lambda: self.step_requested.emit(1))
        self.zoom_in_action = action("Zoom In", "Ctrl +", self.canvas.zoom_in)
        self.zoom_out_action = action("Zoom Out", "Ctrl -", self.canvas.zoom_out)
        self.fit_action = action("Fit", "Ctrl+0", self.canvas.fit)
        self.actual_action = action("1:1", "Ctrl+1", self.canvas.actual_size)
        self.close_action = action("Close", "Esc", self.closed.emit)

    def _make_keys(self) -> None:
        """The viewer's keys, taken before any window shortcut while the photo has focus.

        The main window has its own Ctrl +/- (thumbnail size) and maybe Esc;
        claiming the keys through ``ShortcutOverride`` (as a text field claims
        Ctrl+C) keeps them unambiguous while the viewer is in front.
        """
        std, ctrl = QKeySequence.StandardKey, Qt.KeyboardModifier.ControlModifier
        none = Qt.KeyboardModifier.NoModifier
        self._keys: list[tuple[Callable[[QKeyEvent], bool], Callable[[], object]]] = [
            (_standard(std.ZoomIn, Qt.Key.Key_Equal, ctrl), self.canvas.zoom_in),
            (_standard(std.ZoomOut, Qt.Key.Key_Underscore, ctrl), self.canvas.zoom_out),
            (_exact(Qt.Key.Key_0, ctrl), self.canvas.fit),
            (_exact(Qt.Key.Key_1, ctrl), self.canvas.actual_size),
            (_exact(Qt.Key.Key_Left, none), lambda: self.step_requested.emit(-1)),
            (_exact(Qt.Key.Key_Right, none), lambda: self.step_requested.emit(1)),
            (_exact(Qt.Key.Key_Escape, none), self.closed.emit),
        ]
        self.canvas.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(
            event, QKeyEvent
        ):
            handler = next((run for matches, run in self._keys if matches(event)), None)
            if handler is not None:
                event.accept()
                if event.type() == QEvent.Type.KeyPress:
                    handler()
                return True
        return super().eventFilter(watched, event)

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for act in (self.previous_action, self.next_action):
            bar.addWidget(_button(act, self))
        bar.addWidget(self.title, 1)
        bar.addWidget(self.message)
        for act in (self.zoom_out_action,):
            bar.addWidget(_button(act, self))
        bar.addWidget(self.zoom_label)
        for act in (self.zoom_in_action, self.fit_action, self.actual_action, self.close_action):
            bar.addWidget(_button(act, self))
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(bar)
        column.addWidget(self.canvas, 1)

    def viewer_actions(self) -> list[QAction]:
        """The viewer's actions (for a View menu while it is open)."""
        return [
            self.previous_action,
            self.next_action,
            self.zoom_in_action,
            self.zoom_out_action,
            self.fit_action,
            self.actual_action,
            self.close_action,
        ]

    def row(self) -> ResultRow | None:
        """The photo shown."""
        return self._row

    def show_row(
        self, row: ResultRow, placeholder: QPixmap | None = None, position: str = ""
    ) -> None:
        """Show ``row`` (fit), with ``placeholder`` until the full photo is decoded."""
        self._row = row
        self._ticket += 1
        self.decoded = None
        self._loader.clear()
        self.title.setText(
            display_path(row.record.path.name) + (f"  ({position})" if position else "")
        )
        self.title.setToolTip(display_path(row.record.path))
        self.message.setVisible(False)
        self.canvas.set_picture(placeholder, row.record.width)
        self.canvas.fit()
        self._loader.request(self._ticket, row.record.path, None)

    def shutdown(self) -> None:
        """Stop decoding."""
        self._loader.shutdown()

    def _image_loaded(self, key: object, image: QImage | None, error: str) -> None:
        if key != self._ticket:
            return
        if self._row is not None:
            self.decoded = (self._row.record.id, None if image is None else image.size(), error)
        if image is None:
            self.message.setText(error or "Cannot show this photo")
            self.message.setVisible(True)
            return
        row = self._row
        self.canvas.set_picture(QPixmap.fromImage(image), row.record.width if row else None)


def _standard(
    standard: QKeySequence.StandardKey, key: Qt.Key, modifiers: Qt.KeyboardModifier
) -> Callable[[QKeyEvent], bool]:
    """Matches the platform's ``standard`` keys, and ``key`` with ``modifiers`` too."""
    exact = _exact(key, modifiers)
    return lambda event: event.matches(standard) or exact(event)


def _exact(key: Qt.Key, modifiers: Qt.KeyboardModifier) -> Callable[[QKeyEvent], bool]:
    """Matches ``key`` with exactly ``modifiers`` (the keypad flag aside)."""
    keypad = Qt.KeyboardModifier.KeypadModifier
    return lambda event: event.key() == key and (event.modifiers() & ~keypad) == modifiers


def _button(action: QAction, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setAutoRaise(True)
    button.setAccessibleName(action.text())
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button
