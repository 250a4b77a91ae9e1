"""Secrets: values that must never leave the process, and the one way text is cleaned of them.

A :class:`Secrets` value holds every value that came from ``env_var()`` (the compiler records
which variables each model read; their values are read again from the environment, never
stored) and every credential: the password of the target's catalog URL, target settings and
Spark conf named like secrets, a lineage URL's password, and environment variables named like
secrets (``AWS_SECRET_ACCESS_KEY``, ``*_TOKEN``, ``PGPASSWORD``...), which the engines read.
It is passed explicitly (the run context, the job environment, the console) and applied at
every boundary where text leaves the process or is stored: the console, the catalog's run,
node and job records and view SQL, log files, lineage events, the docs site, compiled SQL
files, error messages and the compile cache. URLs are shown through :func:`mask_url`.

Values shorter than :data:`MIN_LENGTH` are not treated as secrets: masking ``1`` or ``eu``
everywhere would garble every message, and a secret that short protects nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

MIN_LENGTH = 4
URL_MASK = "***"
# names of settings and environment variables that hold credentials
# (not PWD or OLDPWD, the shell's working folder; DB_PWD is a password)
SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|_PWD($|_)|TOKEN|CREDENTIAL|PRIVATE|(^|[_.])(ACCESS_?)?KEY($|[_.])",
    re.I,
)
# key=value pairs of a URL's query that hold credentials (?password=..., &aws_secret_key=...)
_QUERY_SECRET = re.compile(
    r"([?&;][^=&;#]*?(?:secret|password|passwd|pwd|token|key)[^=&;#]*=)[^&;#]*", re.I
)

E = TypeVar("E", bound=BaseException)


@dataclass(frozen=True)
class Secrets:
    """Secret values and what each is (``env DB_PASSWORD``, ``catalog password``), which a
    redacted text shows in its place: ``<secret: env DB_PASSWORD>``."""

    labels: Mapping[str, str] = field(default_factory=dict)  # value -> what it is

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str | None]]) -> Secrets:
        """From ``(label, value)`` pairs; values too short to be secrets are left out."""
        return cls({v: label for label, v in pairs if v and len(v) >= MIN_LENGTH})

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], names: Iterable[str] = ()) -> Secrets:
        """The variables ``names`` (what ``env_var()`` read) and those named like secrets."""
        wanted = set(names) | {k for k in environ if SECRET_NAME.search(k)}
        return cls.of((f"env {k}", environ.get(k)) for k in sorted(wanted))

    def __or__(self, other: Secrets) -> Secrets:
        return Secrets({**other.labels, **self.labels})

    def __bool__(self) -> bool:
        return bool(self.labels)

    @cached_property
    def env_names(self) -> dict[str, str]:
        """Value -> variable name, for the values that came from the environment."""
        return {v: k.removeprefix("env ") for v, k in self.labels.items() if k.startswith("env ")}

    @cached_property
    def _env_pattern(self) -> re.Pattern[str]:
        values = sorted(self.env_names, key=len, reverse=True)
        return re.compile("|".join(re.escape(v) for v in values) or "(?!)")

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.labels:
            return None
        forms = sorted(self._forms, key=len, reverse=True)
        return re.compile("|".join(re.escape(f) for f in forms))

    @cached_property
    def _forms(self) -> dict[str, str]:
        """Each value as it may appear in text: as is, escaped in JSON and SQL strings, and
        percent-encoded in URLs (each redacted to the same label)."""
        forms: dict[str, str] = {}
        for value, label in self.labels.items():
            for form in (
                value,
                json.dumps(value)[1:-1],
                value.replace("'", "''"),
                quote(value, safe=""),
                quote_plus(value, safe=""),
            ):
                forms.setdefault(form, label)
        return forms

    def redact(self, text: str) -> str:
        """``text`` with every secret value replaced by its label."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        forms = self._forms
        return pattern.sub(lambda m: f"<secret: {forms[m.group()]}>", text)

    def redact_data(self, value: Any) -> Any:
        """A JSON-like value (dicts, lists, strings) with every string redacted."""
        if not self.labels:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {self.redact_data(k): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(v) for v in value]
        return value

    def redact_json(self, value: Any, **options: Any) -> str:
        """``value`` as JSON (objects as their ``str``) with every string in it redacted; the
        JSON itself stays valid whatever a secret's value (``true``, ``1234``...)."""
        if self.labels:
            value = self.redact_data(json.loads(json.dumps(value, default=str)))
        return json.dumps(value, default=str, **options)

    def redact_error(self, exc: E) -> E:
        """A copy of a glueform error (or any exception) whose texts are redacted."""
        if not self.labels:
            return exc
        clean = copy.copy(exc)
        for name in ("message", "hint", "snippet"):
            text = getattr(clean, name, None)
            if isinstance(text, str):
                setattr(clean, name, self.redact(text))
        clean.args = tuple(self.redact(a) if isinstance(a, str) else a for a in exc.args)
        return clean

    def tokens(self, text: str) -> tuple[str | tuple[str], ...] | None:
        """``text`` split at the values that came from the environment (literal parts, and
        ``(NAME,)`` where NAME's value was): how the compile cache stores a string without
        the value. None when the text holds no such value."""
        names = self.env_names
        if not names or not any(v in text for v in names):
            return None
        parts: list[str | tuple[str]] = []
        last = 0
        for match in self._env_pattern.finditer(text):
            parts += [text[last : match.start()], (names[match.group()],)]
            last = match.end()
        parts.append(text[last:])
        return tuple(parts)


def untoken(parts: Iterable[str | tuple[str]], environ: Mapping[str, str]) -> str:
    """The text :meth:`Secrets.tokens` split, with each variable's value read again."""
    return "".join(p if isinstance(p, str) else environ.get(p[0], "") for p in parts)


def _userinfo(url: str) -> tuple[str, str, str] | None:
    """``(scheme://, user[:password], @rest)`` of a URL with credentials. The user info ends at
    the last ``@`` before the path (a password may hold ``@`` or ``/`` unencoded)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    first_at = rest.find("@")
    if first_at < 0:
        return None
    path = re.search(r"[/?#]", rest[first_at + 1 :])
    end = first_at + 1 + path.start() if path else len(rest)
    at = rest.rfind("@", 0, end)
    return scheme + sep, rest[:at], rest[at:]


def url_password(url: str | None) -> str | None:
    """The password written in a URL (decoded), or None."""
    parts = _userinfo(url or "")
    if parts is None or ":" not in parts[1]:
        return None
    return unquote(parts[1].split(":", 1)[1])


def quote_password(url: str) -> str:
    """The URL with its password percent-encoded, so that a password holding ``@`` or ``/``
    reaches the server whole (SQLAlchemy and urllib split the user info at its first ``@``)."""
    parts = _userinfo(url)
    if parts is None or ":" not in parts[1]:
        return url
    user, password = parts[1].split(":", 1)
    return f"{parts[0]}{user}:{quote(unquote(password), safe='')}{parts[2]}"


def mask_url(url: str) -> str:
    """A URL fit for messages: any password (in the user info or the query) is hidden. Never
    fails, whatever the URL (a port that is not a number, an ``@`` in the password)."""
    out = url
    parts = _userinfo(url)
    if parts is not None and ":" in parts[1]:
        user = parts[1].split(":", 1)[0]
        out = f"{parts[0]}{user}:{URL_MASK}{parts[2]}"
    return _QUERY_SECRET.sub(lambda m: m.group(1) + URL_MASK, out)


def url_secrets(label: str, url: str | None) -> Secrets:
    """The password of a URL (as written and decoded), labelled."""
    parts = _userinfo(url or "")
    pairs = []
    if parts is not None and ":" in parts[1]:
        raw = parts[1].split(":", 1)[1]
        pairs += [(label, raw), (label, unquote(raw))]
    for match in _QUERY_SECRET.finditer(url or ""):
        raw = (url or "")[match.end(1) : match.end()]
        pairs += [(label, raw), (label, unquote(raw))]
    return Secrets.of(pairs)
