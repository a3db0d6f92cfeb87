"""Item models: they know the library, never widgets (tested with qtmodeltester)."""
