"""Writing verified bundles into other formats (ZIM for Kiwix)."""
