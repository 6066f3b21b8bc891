"""The I/O edge: API clients, change-data-capture producers and sink workers."""
