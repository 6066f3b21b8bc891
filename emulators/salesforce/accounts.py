"""Users, their passwords, and OAuth access tokens.

Users are User records in the store (so SOQL and describe see them); passwords and tokens
live beside them in the same SQLite file, so a restarted emulator keeps its sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from emulators.salesforce import timefmt
from emulators.salesforce.schema import USER
from emulators.salesforce.store import Caller, Op, Store


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: str
    issued_ms: int
    expires_ms: int


def _digest(salt: str, password: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


class Accounts:
    """Credentials and sessions over the store's database and lock."""

    def __init__(self, store: Store, token_ttl_s: int) -> None:
        self.store = store
        self.token_ttl_s = token_ttl_s
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        with store.lock:
            rows = store.db.conn.execute(
                "SELECT token, user_id, issued_ms, expires_ms FROM tokens"
            ).fetchall()
        for token, user_id, issued, expires in rows:
            self._sessions[token] = Session(token, user_id, int(issued), int(expires))

    def add_user(
        self,
        username: str,
        password: str,
        *,
        first_name: str,
        last_name: str,
        email: str | None = None,
        created_by: str | None = None,
    ) -> str:
        """Create a user (or return the existing one with that username); its id."""
        existing = self.user_id_for(username)
        if existing is not None:
            return existing
        alias = (first_name[:1] + last_name[:4]).lower() or "user"
        body = {
            "Username": username,
            "FirstName": first_name,
            "LastName": last_name,
            "Name": f"{first_name} {last_name}".strip(),
            "Email": email or username,
            "Alias": alias,
            "IsActive": True,
        }
        with self.store.lock:
            user_id = self.store.minter.mint(USER.key_prefix)
            caller = Caller(created_by or user_id)
            result = self.store.apply(
                [Op("create", "User", body={**body, "Id": user_id})], caller, admin=True
            )[0]
            assert result.success, result.errors
            salt = secrets.token_hex(8)
            with self.store.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO credentials(username, user_id, salt, digest) VALUES(?, ?, ?, ?)",
                    (username.casefold(), user_id, salt, _digest(salt, password)),
                )
        return user_id

    def user_id_for(self, username: str) -> str | None:
        with self.store.lock:
            row = self.store.db.conn.execute(
                "SELECT user_id FROM credentials WHERE username = ?", (username.casefold(),)
            ).fetchone()
        return None if row is None else str(row[0])

    def authenticate(self, username: str, password: str) -> str | None:
        """The user id when the password is right and the user active, else None."""
        with self.store.lock:
            row = self.store.db.conn.execute(
                "SELECT user_id, salt, digest FROM credentials WHERE username = ?",
                (username.casefold(),),
            ).fetchone()
        if row is None:
            return None
        user_id, salt, digest = row
        if not hmac.compare_digest(_digest(salt, password), digest):
            return None
        found = self.store.lookup(user_id)
        if found is None or not found[1].get("IsActive"):
            return None
        return str(user_id)

    def is_active(self, user_id: str) -> bool:
        found = self.store.lookup(user_id)
        return found is not None and bool(found[1].get("IsActive"))

    def issue(self, user_id: str, org_id: str) -> Session:
        """A new access token for `user_id`, valid for the configured TTL."""
        issued = timefmt.to_ms(timefmt.now())
        token = f"{org_id[:15]}!{secrets.token_urlsafe(72)}"
        session = Session(token, user_id, issued, issued + self.token_ttl_s * 1000)
        with self.store.lock, self.store.db.transaction() as conn:
            conn.execute(
                "INSERT INTO tokens(token, user_id, issued_ms, expires_ms) VALUES(?, ?, ?, ?)",
                (token, user_id, session.issued_ms, session.expires_ms),
            )
        with self._lock:
            self._sessions[token] = session
        return session

    def session(self, token: str) -> Session | None:
        """The live session for `token`, or None if unknown or expired."""
        with self._lock:
            session = self._sessions.get(token)
        if session is None or session.expires_ms <= timefmt.to_ms(timefmt.now()):
            return None
        return session

    def expire_all(self) -> int:
        """Expire every token now (tests of re-login)."""
        now_ms = timefmt.to_ms(timefmt.now())
        with self._lock:
            live = [s for s in self._sessions.values() if s.expires_ms > now_ms]
            for s in live:
                self._sessions[s.token] = Session(s.token, s.user_id, s.issued_ms, now_ms)
        with self.store.lock, self.store.db.transaction() as conn:
            conn.execute("UPDATE tokens SET expires_ms = ? WHERE expires_ms > ?", (now_ms, now_ms))
        return len(live)
