"""Deltas between releases and applying them to a bundle on a card."""
