"""Headless Chromium driven over the DevTools protocol, for the dashboard browser test.

Chromium comes from Debian (`apt-get install chromium`, binary /usr/bin/chromium); the test
session installs it when it is missing (see conftest.py). The protocol is spoken over a
WebSocket with aiohttp (already installed as a Faust dependency), so no browser-automation
package and no browser download is needed.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class Chromium:
    """One headless Chromium process with a fresh profile directory."""

    def __init__(self, binary: Path, profile: Path, size: tuple[int, int] = (1360, 1700)) -> None:
        self.binary = binary
        self.profile = profile
        self.size = size
        self.process: subprocess.Popen[bytes] | None = None
        self.log = profile.parent / "chromium.log"

    def start(self, timeout: float = 30.0) -> int:
        """Start the browser; returns its DevTools port."""
        self.profile.mkdir(parents=True, exist_ok=True)
        argv = [
            str(self.binary),
            *FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={self.size[0]},{self.size[1]}",
            "about:blank",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"chromium exited: {self.log.read_text(errors='replace')[-2000:]}"
                )
            if marker.exists():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise TimeoutError(f"chromium did not open its DevTools port in {timeout}s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class Page:
    """A DevTools session on the browser's first tab."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.ids = itertools.count(1)

    @classmethod
    async def open(cls, port: int) -> Page:
        session = aiohttp.ClientSession()
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        ws = await session.ws_connect(url, max_msg_size=0)
        page = cls(session, ws)
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = await self.ws.receive(timeout=30)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"DevTools connection closed during {method}")
            data = json.loads(message.data)
            if data.get("id") != ident:
                continue  # an event
            if "error" in data:
                raise RuntimeError(f"{method} failed: {data['error']}")
            result: dict[str, Any] = data.get("result", {})
            return result

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def log_in(self, base_url: str, token: str) -> None:
        """What a person does: open the dashboard, get the login form, type the token,
        submit; the answer sets the session cookie and leads back to the overview."""
        await self.navigate(f"{base_url}/")
        await self.wait_for("!!document.querySelector('form[action=\"/login\"] input[name=token]')")
        await self.evaluate(
            "(() => { const form = document.querySelector('form');"
            f" form.token.value = {json.dumps(token)}; form.submit(); return true; }})()"
        )
        await self.wait_for("!document.querySelector('form[action=\"/login\"]')", timeout=30)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """Evaluate until the expression is truthy; returns its value."""
        import asyncio

        # while the page loads, document.body may not exist yet: that counts as "not yet"
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }})()"
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = await self.evaluate(guarded)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the page never satisfied {expression!r} (last value {value!r})")

    async def screenshot(self, path: Path, selector: str | None = None) -> None:
        """A PNG of the whole page, or of the element `selector` names."""
        if selector is None:
            metrics = await self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        else:
            box = await self.evaluate(
                f"(() => {{ const r = document.querySelector({selector!r})"
                ".getBoundingClientRect(); return {x: r.x + scrollX, y: r.y + scrollY, "
                "width: r.width, height: r.height}; })()"
            )
            clip = {**box, "scale": 1}
        shot = await self.send(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()
