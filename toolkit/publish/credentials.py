"""Keep secrets out of what the publishers print: one redaction for `publish sparql` and `publish ckan`.

Why a module of its own: both publishers print text that came from a server (an error body
of a 4xx, a CKAN error message) or from the user (a URL), and a server that echoes the
request's ``Authorization`` or ``Cookie`` header, or a URL with ``user:password@``, would
otherwise put a token or a password on the screen and into CI logs. Everything a publisher
prints about the server passes through :func:`redact`, with the secrets it knows.

Why both the known secrets and patterns: the known values (the token, the password, the
basic-auth header built from them) are removed wherever they appear, however the server
quoted them; the patterns catch credentials the toolkit never saw (a session cookie the
server set, another client's header, userinfo in a URL of the body).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from toolkit.errors import UsageError

__all__ = ["MASK", "basic_auth_value", "has_userinfo", "redact", "url_for_display"]

MASK = "***"
#: Shorter known secrets are not replaced as plain substrings (a password "ab" would blank
#: every "ab" of the message); the header and URL patterns below still mask them.
MIN_SECRET = 4

# `Authorization: Bearer x`, `"Cookie": "a=b"`, `'X-CKAN-API-Key': 'x'`, `authorization=x` ...
# keeps the name and its separator, masks the value up to the end of the line, a quote, a brace
# or a backslash (a body quoted by repr() has its line breaks as the two characters \n).
_HEADER = re.compile(
    r"""(?ix)
    (?P<name>\b(?:proxy-)?authorization|\bset-cookie|\bcookie|\bx-ckan-api-key|\bx-api-key|\bapi[_-]?key
        |\bapikey|\baccess[_-]?token|\bpassword|\bpasswd|\btoken)
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<value>[^"'\\\r\n}<&,]+)
    """
)
# a credential scheme followed by its value, wherever it stands
_SCHEME = re.compile(r"(?i)\b(?P<scheme>bearer|basic|token|digest)\s+(?P<value>[A-Za-z0-9._~+/=-]{4,})")
# scheme://user:password@host -> scheme://***@host
_USERINFO = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@\"'<>]+@")


def basic_auth_value(user: str, password: str) -> str:
    """The base64 part of ``Authorization: Basic ...``, so that an echo of it is masked too."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _forms(secret: str) -> set[str]:
    """A secret as a server may quote it back: raw, URL-encoded, JSON-escaped."""
    forms = {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}
    return {f for f in forms if len(f) >= MIN_SECRET}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every known secret and every credential-looking value replaced by ``***``."""
    for secret in sorted({f for s in secrets if s for f in _forms(s)}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: m["scheme"] + MASK + "@", text)
    text = _HEADER.sub(lambda m: m["name"] + m["sep"] + MASK, text)
    return _SCHEME.sub(lambda m: m["scheme"] + " " + MASK, text)


def has_userinfo(url: str) -> bool:
    """True when ``url`` carries ``user:password@``: the caller refuses it, without echoing it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.username or parts.password or "@" in parts.netloc)


def check_http_url(url: str, option: str, *, credentials_hint: str, example: str) -> None:
    """UsageError unless ``url`` is a plain http(s) URL: no ``user:password@`` (never echoed), a
    valid port, a host. Both publishers take their endpoints through here."""
    if has_userinfo(url):
        raise UsageError(f"{option} must not contain credentials (user:password@)", hint=credentials_hint)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise UsageError(f"{option} {url_for_display(url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} {url_for_display(url)!r} is not an http(s) URL, e.g. {example}")


def url_for_display(url: str) -> str:
    """``url`` without userinfo, query or fragment: what a message may name."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return redact(url)
    if ":" in host:
        host = f"[{host}]"
    if port:
        host += f":{port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else redact(url)
