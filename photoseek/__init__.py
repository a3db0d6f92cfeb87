"""photoseek: find photos on your own disk by what is in them."""

__version__ = "0.1.0"
