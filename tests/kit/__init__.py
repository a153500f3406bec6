"""Shared builders for the tests (content folders, bundles, FAT32 drives, browsers)."""
