"""Listing a crawler's targets: a local folder tree (os.scandir; symlink loops and unreadable
folders are reported per folder) or an S3 prefix (boto3's list_objects_v2 paginator), and reading
byte ranges of the files found. Files and folders named ``_*`` or ``.*`` (``_SUCCESS``,
``.crc``, ``_temporary/``) are ignored, as Glue and Hive do.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from glueform.project.model import S3Target


@dataclass(frozen=True)
class FileEntry:
    rel: str  # path below the target, with / separators
    size: int
    mtime: float

    @property
    def folder(self) -> str:
        return self.rel.rpartition("/")[0]


@dataclass(frozen=True)
class Problem:
    """A file or folder that was not crawled, and why."""

    path: str
    reason: str


@dataclass
class Listing:
    files: list[FileEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: str | None = None  # the target itself could not be listed: nothing is deleted


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: ``**`` crosses folders, ``*`` and ``?`` do not."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?")


@dataclass(frozen=True)
class Filter:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __call__(self, rel: str) -> bool:
        if self.include and not any(_rx(p).fullmatch(rel) for p in self.include):
            return False
        return not any(_rx(p).fullmatch(rel) for p in self.exclude)


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern)


def _hidden(name: str) -> bool:
    return name.startswith((".", "_")) or name.endswith(".crc")


class LocalStore:
    """A folder tree on this machine."""

    def __init__(self, root: str, keep: Filter) -> None:
        self.root = root.rstrip("/") or "/"
        self.keep = keep

    def location(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def list(self, known_folders: Collection[str] = ()) -> Listing:
        """Every file below the root; folders in ``known_folders`` (by rel path) are not entered."""
        out = Listing()
        try:
            st = os.stat(self.root)
        except FileNotFoundError:
            out.failed = "does not exist"
            return out
        except OSError as exc:
            out.failed = exc.strerror or str(exc)
            return out
        if not stat.S_ISDIR(st.st_mode):
            out.failed = "is not a folder"
            return out
        seen = {(st.st_dev, st.st_ino)}
        stack = [""]
        while stack:
            rel = stack.pop()
            try:
                with os.scandir(self.location(rel)) as entries:
                    items = list(entries)
            except PermissionError:
                out.problems.append(Problem(self.location(rel), "permission denied"))
                if not rel:
                    out.failed = "permission denied"
                continue
            except OSError as exc:
                out.problems.append(Problem(self.location(rel), exc.strerror or str(exc)))
                continue
            for entry in items:
                self._entry(entry, rel, out, stack, seen, known_folders)
        return out

    def _entry(
        self,
        entry: os.DirEntry[str],
        rel: str,
        out: Listing,
        stack: list[str],
        seen: set[tuple[int, int]],
        known: Collection[str],
    ) -> None:
        child = f"{rel}/{entry.name}" if rel else entry.name
        if _hidden(entry.name):
            return
        try:
            if entry.is_dir():
                if child in known:
                    return  # seen by the last crawl (crawl_new_folders_only)
                st = entry.stat()
                if (st.st_dev, st.st_ino) in seen:
                    out.problems.append(
                        Problem(entry.path, "symlink loop (a folder already crawled): not entered")
                    )
                else:
                    seen.add((st.st_dev, st.st_ino))
                    stack.append(child)
                return
            if entry.is_file():
                if self.keep(child):
                    st = entry.stat()
                    out.files.append(FileEntry(child, st.st_size, st.st_mtime))
                return
        except OSError as exc:
            out.problems.append(Problem(entry.path, exc.strerror or str(exc)))
            return
        if entry.is_symlink():
            out.problems.append(Problem(entry.path, "broken symlink"))

    def reader(self, rel: str) -> Callable[[int, int], bytes]:
        path = self.location(rel)

        def read(offset: int, length: int) -> bytes:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(length)

        return read

    def zstd(self, rel: str) -> Callable[[], bytes]:
        """The start of a zstd file, decompressed by DuckDB (which has zstd built in)."""

        def head() -> bytes:
            import duckdb

            from glueform.sql import string_literal

            query = (
                f"SELECT line FROM read_csv({string_literal(self.location(rel), 'duckdb')}, "
                "compression='zstd', columns={'line': 'VARCHAR'}, delim=chr(1), header=false, "
                "quote='', escape='', auto_detect=false, strict_mode=false) LIMIT 2000"
            )
            with duckdb.connect() as con:
                rows = con.execute(query).fetchall()
            return "".join(f"{r[0] or ''}\n" for r in rows).encode()

        return head


class S3Store:
    """An S3 prefix, through boto3 (lazily imported), with few retries so that an endpoint that
    is down is reported within seconds."""

    def __init__(self, url: str, keep: Filter, s3: S3Target) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.keep = keep
        self.s3 = s3
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=10,
                max_pool_connections=32,
            )
            self._client = boto3.client(
                "s3", region_name=self.s3.region, endpoint_url=self.s3.endpoint_url, config=config
            )
        return self._client

    def location(self, rel: str) -> str:
        key = "/".join(p for p in (self.prefix, rel) if p)
        return f"s3://{self.bucket}/{key}"

    def list(self, known_folders: Collection[str] = ()) -> Listing:
        from botocore.exceptions import BotoCoreError, ClientError

        out = Listing()
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            )
            for page in pages:
                for obj in page.get("Contents", ()):
                    rel = obj["Key"][len(start) :]
                    self._add(rel, obj, out, known_folders)
        except ClientError as exc:
            out.failed = f"S3 said {exc.response.get('Error', {}).get('Code', '?')}: {exc}"
        except BotoCoreError as exc:
            out.failed = f"S3 cannot be reached: {exc}"
        return out

    def _add(self, rel: str, obj: dict[str, Any], out: Listing, known: Collection[str]) -> None:
        parts = rel.split("/")
        if not rel or rel.endswith("/") or any(_hidden(p) for p in parts):
            return
        folder = rel.rpartition("/")[0]
        if folder in known or not self.keep(rel):
            return
        out.files.append(FileEntry(rel, int(obj["Size"]), obj["LastModified"].timestamp()))

    def reader(self, rel: str) -> Callable[[int, int], bytes]:
        key = self.location(rel).removeprefix(f"s3://{self.bucket}/")

        def read(offset: int, length: int) -> bytes:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                body = self.client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
                )["Body"]
                return bytes(body.read())
            except (ClientError, BotoCoreError) as exc:
                raise OSError(str(exc)) from None

        return read

    def zstd(self, rel: str) -> None:
        return None


def open_store(target: str, keep: Filter, s3: S3Target) -> LocalStore | S3Store:
    if target.startswith("s3://"):
        return S3Store(target, keep, s3)
    return LocalStore(target, keep)


def folders_of(files: Sequence[FileEntry]) -> dict[str, list[FileEntry]]:
    """Files by their folder (rel path), in path order."""
    out: dict[str, list[FileEntry]] = {}
    for f in sorted(files, key=lambda f: f.rel):
        out.setdefault(f.folder, []).append(f)
    return out
