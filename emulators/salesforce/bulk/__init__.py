"""Bulk API 2.0 query jobs (`/services/data/vXX.X/jobs/query`)."""
