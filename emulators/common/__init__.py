"""Pieces both emulators share: fault injection, request statistics, serving on 127.0.0.1."""
