"""Workers: everything slow, off the GUI thread; results come back as queued signals."""
