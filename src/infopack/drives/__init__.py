"""Copying verified bundles onto drives, and probing a drive's real capacity."""
