"""Everything that knows arXiv's formats: pure code, no database."""
