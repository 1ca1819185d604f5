"""The store folder as the faces need it before anyone signs in: where it is, whether a
store is there, who may sign in to it, its id; and closing the connection a worker thread
opened on it.

Nothing here loads the database's code (peewee, the models, the store's cryptography), so
that the login dialog shows before it: that code loads at the sign-in.
"""

from pathlib import Path

from app.store_paths import folder_store_id, resolve_store_dir, slot_users, store_exists

__all__ = [
    "close_thread_connection",
    "resolve_store_dir",
    "store_exists",
    "store_id",
    "store_user_names",
]


def store_user_names(folder: Path) -> list[str]:
    """The users who hold a key slot: readable before unlocking, for the login list."""
    return slot_users(folder)


def store_id(folder: Path) -> str:
    return folder_store_id(folder)


def close_thread_connection() -> None:
    """Close the calling thread's connection, if it has one (worker threads call this
    after each task)."""
    # Imported here (see the module's docstring). The login dialog's keyring probe is the
    # first caller, once the dialog shows: the store's code then loads on that worker
    # while the password is typed, not at the Unlock.
    from app.store import close_thread_connection as close

    close()
