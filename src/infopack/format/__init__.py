"""The bundle format of docs/FORMAT.md as pure code: constants, names, the manifest and its codec.

Imports nothing of infopack's but `errors`; both `trust` and `build` stand on it."""
