"""The desktop app (PySide6): the only package that imports Qt.

It is built on the :class:`photoseek.core.library.Library` facade alone and
reads as model, view and workers: ``app.py`` (start-up, single instance),
``mainwindow.py`` (assembles the parts), ``context.py`` (what every part
shares), ``settings.py``, ``models/`` (item models that know nothing of
widgets), ``views/`` (widgets and delegates that only paint), ``workers/``
(everything slow, off the GUI thread), ``actions.py`` (what can be done to
photos, with shortcuts). Importing this package imports nothing heavy.
"""
