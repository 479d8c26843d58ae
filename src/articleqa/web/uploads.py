"""Uploaded article files: staged under generated names, bounded in number and size, and
reported back (HTML) with what was added, refused or failed."""

from __future__ import annotations

import html
import re
import stat
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from articleqa.index import IngestReport
from articleqa.readers.walk import JSON_SUFFIXES, SKIPPED_NAME_PREFIXES, TEXT_SUFFIXES

#: Files one upload may hold (as chosen in the browser; a .zip counts as one).
MAX_UPLOAD_FILES = 50
#: Bytes of one uploaded file, and of one article file inside a .zip (uncompressed).
MAX_FILE_BYTES = 20 * 2**20
#: Article files one upload may add in all, members of .zip files included.
MAX_ARTICLE_FILES = 2000
#: Bytes one upload may add in all, members of .zip files counted uncompressed.
MAX_TOTAL_BYTES = 200 * 2**20
#: Suffixes of the files an upload may hold; anything else is refused.
ARTICLE_SUFFIXES = frozenset(s for s in TEXT_SUFFIXES | JSON_SUFFIXES if s)
UPLOAD_SUFFIXES = ARTICLE_SUFFIXES | {".zip"}


# -- uploads -----------------------------------------------------------------------------------


@dataclass
class StagedUpload:
    """Uploaded article files copied into a folder of our own, under generated names.

    Attributes:
        files: The staged files, to ingest.
        names: Display name (as the browser sent it, or ``archive.zip: member``) of each staged
            file, by its path. Display names are only ever shown, escaped; never used as paths.
        refused: ``(display name, reason)`` of what was not staged.
        skipped: Display names of .zip members passed over as not articles (folders, hidden
            files, README/LICENSE).
    """

    files: list[Path] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    total_bytes: int = 0


class _TooLarge(Exception):
    pass


def stage_uploads(uploads: Sequence[tuple[str | Path, str]], folder: Path) -> StagedUpload:
    """Copies uploaded files (and the article files inside uploaded .zip files) into ``folder``
    under generated names that keep only a known suffix.

    Bounded by :data:`MAX_UPLOAD_FILES`, :data:`MAX_FILE_BYTES`, :data:`MAX_ARTICLE_FILES` and
    :data:`MAX_TOTAL_BYTES`; whatever is over a bound is refused with the reason.

    Args:
        uploads: ``(path of the received file on this machine, name the browser gave it)``.
        folder: An empty folder of our own.
    """
    staged = StagedUpload()
    for number, (path, name) in enumerate(uploads, start=1):
        name = _display_name(name)
        if number > MAX_UPLOAD_FILES:
            staged.refused.append((name, f"more than {MAX_UPLOAD_FILES} files in one upload; "
                                         "upload the rest separately or as a .zip"))
            continue
        suffix = PurePosixPath(name.lower()).suffix
        if suffix not in UPLOAD_SUFFIXES:
            staged.refused.append((name, _unsupported(suffix)))
            continue
        source = Path(path)
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            staged.refused.append((name, f"larger than {_mib(MAX_FILE_BYTES)}"))
            continue
        if suffix == ".zip":
            _stage_zip(source, name, number, folder, staged)
            continue
        with open(source, "rb") as reader:
            _stage_one(reader, name, suffix, f"upload-{number:03d}", folder, staged)
    return staged


def _stage_one(reader, name: str, suffix: str, stem: str, folder: Path,
               staged: StagedUpload) -> None:
    if len(staged.files) >= MAX_ARTICLE_FILES:
        staged.refused.append((name, f"more than {MAX_ARTICLE_FILES} article files in one "
                                     "upload"))
        return
    target = folder / f"{stem}{suffix}"
    budget = min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - staged.total_bytes)
    try:
        written = _copy_bounded(reader, target, budget)
    except _TooLarge:
        target.unlink(missing_ok=True)
        reason = (f"larger than {_mib(MAX_FILE_BYTES)}" if budget == MAX_FILE_BYTES else
                  f"the upload is over {_mib(MAX_TOTAL_BYTES)} in all")
        staged.refused.append((name, reason))
        return
    staged.total_bytes += written
    staged.files.append(target)
    staged.names[str(target)] = name


def _stage_zip(source: Path, name: str, number: int, folder: Path,
               staged: StagedUpload) -> None:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        staged.refused.append((name, "not a readable .zip file"))
        return
    with archive:
        for position, member in enumerate(archive.infolist(), start=1):
            shown = f"{name}: {_display_name(member.filename, keep_folders=True)}"
            if member.is_dir():
                continue
            member_path = PurePosixPath(member.filename.replace("\\", "/"))
            base = member_path.name
            if stat.S_ISLNK(member.external_attr >> 16):
                staged.refused.append((shown, "a symbolic link; links are not followed"))
            elif (member.filename.startswith(("/", "\\")) or ".." in member_path.parts
                  or re.match(r"[A-Za-z]:", member.filename)):
                staged.refused.append((shown, "an unsafe path inside the .zip"))
            elif (base.startswith(".") or "__MACOSX" in member_path.parts
                  or base.lower().startswith(SKIPPED_NAME_PREFIXES)):
                staged.skipped.append(shown)
            elif member.flag_bits & 0x1:
                staged.refused.append((shown, "encrypted; upload it unencrypted"))
            elif (suffix := member_path.suffix.lower()) not in ARTICLE_SUFFIXES:
                staged.refused.append((shown, _unsupported(suffix) if suffix != ".zip" else
                                       "a .zip inside a .zip is not read; unpack it first"))
            else:
                try:
                    with archive.open(member) as reader:
                        _stage_one(reader, shown, suffix, f"upload-{number:03d}-{position:05d}",
                                   folder, staged)
                except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as error:
                    staged.refused.append((shown, f"cannot be unpacked: {error}"))


def _copy_bounded(reader, target: Path, limit: int) -> int:
    written = 0
    with open(target, "xb") as writer:
        while block := reader.read(1 << 16):
            written += len(block)
            if written > limit:
                raise _TooLarge
            writer.write(block)
    return written


def _display_name(name: str, keep_folders: bool = False) -> str:
    """A name from the browser or a .zip, for display only: control characters dropped and the
    length bounded (it is escaped where it is shown)."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", str(name))
    if not keep_folders:
        name = re.split(r"[\\/]", name)[-1]
    return name[:200] or "(unnamed)"


def _unsupported(suffix: str) -> str:
    kinds = ", ".join(sorted(UPLOAD_SUFFIXES))
    what = f"{suffix} files are" if suffix else "files without a suffix are"
    return f"{what} not read; upload {kinds}"


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MB"


def render_upload_report(report: IngestReport | None, staged: StagedUpload,
                         titles: Sequence[str] = ()) -> str:
    """What an upload did, as HTML: the ingest summary, the headlines added, every file
    refused or failed with the reason, and every warning (an article stored undated), under the
    name the browser gave it (escaped)."""
    parts = ['<div class="aq-upload">']
    if report is not None:
        parts.append(f"<p><b>{html.escape(report.summary())}</b></p>")
        if titles:
            shown = "".join(f"<li>{html.escape(t)}</li>" for t in titles[:20])
            more = f"<li>and {len(titles) - 20} more</li>" if len(titles) > 20 else ""
            parts.append(f"<p>Added:</p><ul>{shown}{more}</ul>")
    elif not staged.refused:
        parts.append("<p>No files were uploaded.</p>")
    problems = list(staged.refused)
    if report is not None:
        problems += [(_failed_name(path, staged.names), reason) for path, reason in report.failed]
    if problems:
        items = "".join(f"<li><b>{html.escape(name)}</b>: {html.escape(reason)}</li>"
                        for name, reason in problems)
        parts.append(f'<p class="aq-refused">Refused or failed ({len(problems)}):</p>'
                     f"<ul>{items}</ul>")
    if report is not None and report.warnings:
        items = "".join(f"<li><b>{html.escape(_failed_name(path, staged.names))}</b>: "
                        f"{html.escape(message)}</li>" for path, message in report.warnings)
        parts.append(f'<p class="aq-warned">Added with warnings ({len(report.warnings)}):</p>'
                     f"<ul>{items}</ul>")
    if staged.skipped:
        parts.append(f"<p>Skipped as not articles: {len(staged.skipped)} "
                     "(folders, hidden files, README/LICENSE).</p>")
    parts.append("</div>")
    return "".join(parts)


def _failed_name(path: str, names: Mapping[str, str]) -> str:
    """The display name for a failed path (``staged-file`` or ``staged-file#record``)."""
    for staged, name in names.items():
        if path == staged or path.startswith(staged + "#") or path.startswith(staged + ":"):
            return name + path[len(staged):]
    return Path(path).name
