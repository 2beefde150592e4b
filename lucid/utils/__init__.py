"""Helpers, as ``torch.utils``: ``hooks``."""
