"""The build pipeline: render -> media -> pack -> search index -> viewer -> assemble."""
