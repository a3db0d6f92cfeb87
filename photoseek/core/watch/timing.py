"""How long the folder watcher waits: apart from it, so its users need not import watchdog."""

STABLE_S = 2.0
"""A changed file is reported once it has been quiet this long (a copy has finished)."""
POLL_INTERVAL_S = 30.0
"""How often a folder that cannot send events (a network share) is scanned."""
