"""imtui: operate a fleet of IM applications from a terminal."""

__version__ = "0.1.0"
