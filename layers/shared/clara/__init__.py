"""Clara's shared layer: settings, envelope, errors, resolver factory and formats used by every function."""

__version__ = "0.1.0"
