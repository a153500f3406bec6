"""Bringing outside material (web captures, documents, media folders, ZIM) into a content folder."""
