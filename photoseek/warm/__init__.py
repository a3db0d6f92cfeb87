"""Warm search: ``photoseek search`` answered by a running watch service or desktop app.

A running service or app has the model, the index and the catalog loaded;
asking it over a local socket costs a ``search`` process its interpreter
start and a round trip, not a model load. :mod:`.address` names the socket
(private to the user), :mod:`.client` asks (and imports almost nothing:
it runs before the command line is parsed), :mod:`.server` answers by running
the same ``search`` command against the library it already has open.
Anything unexpected on either side sends the search down the cold path.
"""
