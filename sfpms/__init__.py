"""sfpms: the operator's shell around the sync (CLI, settings, embedded broker and registry)."""

__version__ = "0.1.0"
