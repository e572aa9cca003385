"""asc-access: connect to App Store Connect, diagnose keys, mirror and govern access."""

__version__ = "0.1.0"
