"""Strict helpers for reading settings from the environment.

A typo in a boolean or a number must stop the process at start-up with a clear
message, not silently fall back to a default.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Values people leave in place: .env.example's placeholder and its usual variants.
PLACEHOLDER_SECRET_KEYS = frozenset({"change-me", "changeme", "change_me", "secret", "secret-key"})
MIN_SECRET_KEY_LENGTH = 50  # Django's own deploy check (security.W009) asks as much


def weak_secret_key(key: str) -> str | None:
    """Why `key` cannot sign production sessions and tokens, or None when it can.

    The same rules as Django's `check --deploy` (length, variety, its generated development
    prefix), plus the placeholders of .env.example.
    """
    if not key:
        return "is required"
    if key.lower() in PLACEHOLDER_SECRET_KEYS:
        return f"is the placeholder {key!r} from .env.example"
    if key.startswith("django-insecure-"):
        return "is a development key made by startproject"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is too short ({len(key)} characters, at least {MIN_SECRET_KEY_LENGTH})"
    if len(set(key)) < 5:
        return "has fewer than 5 different characters"
    return None


def local_secret_key(path: Path) -> str:
    """A strong key stored at ``path`` (created with owner-only access the first time)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as stream:
        stream.write(key)
    return key
