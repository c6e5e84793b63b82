"""The normalized in-memory view: pure, typed, no I/O. Raw dicts stop in build.py."""
