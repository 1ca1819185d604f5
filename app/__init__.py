"""Certdesk: an offline console for signing certificates and their private keys."""

__version__ = "0.1.0"  # the package's version too (pyproject.toml reads it here)
