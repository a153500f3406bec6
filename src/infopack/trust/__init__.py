"""Keys, minisign signatures, verification and rollback state.

Never imports content, build or plan code: partners run only this (and `format`)."""
