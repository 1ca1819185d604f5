"""PySide6 widgets: thin faces over app.services."""
