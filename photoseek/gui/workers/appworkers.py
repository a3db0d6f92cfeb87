"""The app's three long-lived workers, wired to the :class:`AppContext` and to each other.

* :class:`ModelLoader`: the CLIP model, loaded while the user types.
* :class:`BackgroundWorker`: the library's writer (the watch loop), or a
  reader while another process writes.
* :class:`Follower`: the library's changes every second, as
  ``context.events.changed``; as a reader, the writer's commits and state.

:meth:`AppWorkers.shutdown` stops them within a few seconds and says whether
the library may be closed (no worker still touching it).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from photoseek.core.cluster.options import ClusterOptions
from photoseek.core.watch.service import ServiceOptions
from photoseek.gui.context import AppContext
from photoseek.gui.memory import freeze_long_lived_objects
from photoseek.gui.workers.background import BackgroundWorker
from photoseek.gui.workers.follower import FOLLOW_INTERVAL_S, Follower
from photoseek.gui.workers.modelloader import ModelLoader
from photoseek.warm.server import WarmSearchServer

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


class AppWorkers(QObject):
    """Model loader, background worker and follower of one library."""

    error = Signal(str)  # a worker's failure, one sentence (the window shows a notice)

    def __init__(
        self,
        context: AppContext,
        parent: QObject | None = None,
        *,
        service_options: ServiceOptions | None = None,
        follow_interval_s: float = FOLLOW_INTERVAL_S,
    ) -> None:
        super().__init__(parent)
        self.context = context
        library, events = context.library, context.events
        self.model_loader = ModelLoader(library, context.model, self)
        self.background = BackgroundWorker(
            library,
            self,
            options=service_options or service_options_for(context.settings.cluster_address),
            pause_on_battery=context.settings.pause_on_battery,
            events=events,
        )
        self.follower = Follower(library, self, interval_s=follow_interval_s)
        self.warm_search = WarmSearchServer(library)  # `photoseek search` asks the app
        self.background.role_changed.connect(self.follower.set_role)
        self.follower.changed.connect(events.changed)
        self.follower.error.connect(self.error)
        self.background.error.connect(self.error)
        self.error.connect(events.message)
        context.model.ready.connect(self.follower.warm_names)  # after the model: see there
        context.model.failed.connect(self.follower.warm_names)
        context.model.ready.connect(self.background.begin)  # the catch-up, too: see there
        context.model.ready.connect(freeze_long_lived_objects)
        context.model.failed.connect(self.background.begin)

    def start(self, *, load_model: bool = True) -> None:
        """Start loading the model (unless it is), indexing or following, and the follower."""
        if load_model and not self.context.model.is_ready:
            self.background.hold()
            self.model_loader.start()
        else:
            self.follower.warm_names()
        self.background.start()
        self.follower.start()
        self.warm_search.start()

    def use_checkpoint(self, checkpoint: Path) -> None:
        """Load the model from a local checkpoint file now (after a failed download)."""
        library = self.context.library
        library.settings = replace(library.settings, pretrained=str(checkpoint))
        log.info("loading the model from %s", checkpoint)
        self.model_loader.start()

    def shutdown(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop every worker; True when all their threads ended.

        A model load cannot stop while torch imports (seconds); neither can the
        background worker while it waits for that load. Both hold no batch
        then: the caller may leave them to the process exit.
        """
        self.background.request_stop()
        self.follower.request_stop()
        self.warm_search.stop()
        loaded = self.model_loader.cancel(timeout_s=1.0)
        stopped = self.background.stop(timeout_s)
        followed = self.follower.stop(timeout_s=3.0)
        return loaded and stopped and followed


def service_options_for(cluster_address: str) -> ServiceOptions:
    """The app's watch-loop options: on the Ray cluster at ``cluster_address`` unless empty."""
    cluster = ClusterOptions(cluster_address) if cluster_address else None
    return ServiceOptions(low_priority=True, cluster=cluster)
