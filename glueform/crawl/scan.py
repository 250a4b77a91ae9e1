"""From listed files to classified leaf folders: sample a few files of each folder (per file
extension), classify them by content, and merge their schemas. Everything else in the folder is
only listed, as Glue samples too. Files that cannot be used are reported with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from glueform.crawl.classify import Classified, CsvOptions, Skip, classify
from glueform.crawl.listing import FileEntry, Problem, folders_of
from glueform.crawl.schema import merge
from glueform.crawl.tables import Leaf

COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".zstd")


@dataclass
class ScanResult:
    leaves: list[Leaf] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_read: int = 0


@dataclass(frozen=True)
class Sampling:
    sample_size: int = 1  # 0: every file
    classifiers: tuple[str, ...] = ()
    csv: CsvOptions = field(default_factory=CsvOptions)


def extension(name: str) -> str:
    """``.csv``, ``.csv.gz``, ``.parquet``: what tells files of one folder apart."""
    base = name.rpartition("/")[2].lower()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        return ""
    suffix = f".{ext}"
    if suffix in COMPRESSION_SUFFIXES:
        inner = stem.rpartition(".")
        return (f".{inner[2]}" if inner[1] else "") + suffix
    return suffix


def scan(
    store: Any, files: Sequence[FileEntry], sampling: Sampling, threads: int = 1
) -> ScanResult:
    """Classify each folder of ``files`` (``threads`` > 1 for remote stores: reads wait on I/O)."""
    folders = folders_of(files)
    out = ScanResult()

    def one(item: tuple[str, list[FileEntry]]) -> tuple[Leaf | None, list[Problem], list[str], int]:
        return _folder(store, item[0], item[1], sampling)

    results: Iterable[tuple[Leaf | None, list[Problem], list[str], int]]
    if threads > 1 and len(folders) > 1:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(one, folders.items()))
    else:
        results = map(one, folders.items())
    for leaf, problems, warnings, reads in results:
        if leaf is not None:
            out.leaves.append(leaf)
        out.skipped.extend(problems)
        out.warnings.extend(warnings)
        out.files_read += reads
    return out


def _folder(
    store: Any, folder: str, files: list[FileEntry], sampling: Sampling
) -> tuple[Leaf | None, list[Problem], list[str], int]:
    problems = [Problem(store.location(f.rel), "empty file") for f in files if f.size == 0]
    by_ext: dict[str, list[FileEntry]] = {}
    for f in sorted(files, key=lambda f: (-f.mtime, f.rel)):  # newest first: new columns show
        if f.size:
            by_ext.setdefault(extension(f.rel), []).append(f)
    reads = 0
    found: dict[str, list[tuple[FileEntry, Classified]]] = {}
    bad: set[str] = set()
    for ext, group in by_ext.items():
        want = sampling.sample_size or len(group)
        for f in group:
            if len(found.get(ext, ())) >= want:
                break
            reads += 1
            try:
                c = classify(
                    f.size,
                    store.reader(f.rel),
                    sampling.classifiers,
                    sampling.csv,
                    store.zstd(f.rel) if extension(f.rel).endswith((".zst", ".zstd")) else None,
                )
            except Skip as exc:
                problems.append(Problem(store.location(f.rel), str(exc)))
                bad.add(f.rel)
                continue
            found.setdefault(ext, []).append((f, c))
    if not found:
        return None, problems, [], reads
    fmt_of = {ext: items[0][1].format for ext, items in found.items()}
    weight = Counter[str]()
    for ext, fmt in fmt_of.items():
        weight[fmt] += len(by_ext[ext])
    main = weight.most_common(1)[0][0]
    kept: list[FileEntry] = []
    for ext, group in by_ext.items():
        fmt = fmt_of.get(ext)
        for f in group:
            if f.rel in bad:
                continue
            if fmt == main:
                kept.append(f)
            elif fmt is not None:
                problems.append(
                    Problem(store.location(f.rel), f"a {fmt} file in a folder of {main} files")
                )
    if not kept:
        return None, problems, [], reads
    chosen = [(f, c) for items in found.values() for f, c in items if c.format == main]
    warnings = [f"{store.location(f.rel)}: {note}" for f, c in chosen for note in c.notes]
    samples = tuple((store.location(f.rel), c.columns) for f, c in chosen)
    merged = merge(samples)
    warnings.extend(f"{store.location(folder)}: {w}" for w in merged.warnings)
    options = dict(chosen[0][1].options)
    if any(c.options.get("null_padding") for _, c in chosen):
        options["null_padding"] = True
    compressions = {c.compression for _, c in chosen}
    leaf = Leaf(
        folder=folder,
        files=tuple(sorted(kept, key=lambda f: f.rel)),
        format=main,
        columns=merged.columns,
        samples=samples,
        options=options,
        compression=compressions.pop() if len(compressions) == 1 else None,
    )
    return leaf, problems, warnings, reads


def common_suffix(leaves: Iterable[Leaf]) -> str:
    """The extension every file shares (``.csv.gz``), or '' when they differ."""
    found = {extension(f.rel) for leaf in leaves for f in leaf.files}
    return found.pop() if len(found) == 1 else ""
