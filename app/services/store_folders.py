"""The store folder as the faces need it: where it is, whether a store is there, and
closing the connection a worker thread opened on it."""

from app.store import close_thread_connection, resolve_store_dir, store_exists

__all__ = ["close_thread_connection", "resolve_store_dir", "store_exists"]
