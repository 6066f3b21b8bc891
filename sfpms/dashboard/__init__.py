"""The read-only web dashboard: flow cards, lag charts, partition tables, dead letters.

`create_app(settings)` builds the ASGI app (FastAPI); `sfpms dashboard` serves it on
127.0.0.1. The page is one HTML file with inlined CSS and JavaScript (`static/`), drawing
its charts as hand-written SVG from the JSON API; no JavaScript packages are used.
"""

from sfpms.dashboard.app import create_app

__all__ = ["create_app"]
