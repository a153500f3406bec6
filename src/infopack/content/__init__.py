"""The content model and the validated loading of a content folder."""
