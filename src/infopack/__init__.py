"""infopack: curated content folder -> compressed, signed bundle readable offline from file://."""

__version__ = "0.1.0"
