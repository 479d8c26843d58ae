"""Article files as text, whatever common encoding they were saved in."""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path

from articleqa.errors import ArticleReadError

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # (mark, codec, name). UTF-32 first: its little-endian mark begins with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or a .docx/.xlsx/.epub file)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
)

# C0 controls other than tab, newline, vertical tab, form feed and carriage return, plus DEL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# C1 controls: in decoded text they mean bytes were read with the wrong encoding.
_C1_CHARS = re.compile(r"[\x80-\x9f]")

_CONVERT_HINT = "convert the file to UTF-8 and try again"

#: The largest article file read by default (a file is read whole into memory).
DEFAULT_MAX_FILE_BYTES = 64 * 2**20


def read_text_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """Read an article file as text, whatever common encoding it was saved in.

    Byte-order marks (UTF-8, UTF-16, UTF-32) are honoured; otherwise the bytes are tried as
    strict UTF-8, then as Windows-1252 (which reads Latin-1 text the same for letters and signs).
    Newlines are normalised to ``\\n``.

    Args:
        path: The file to read.
        max_bytes: The largest file read; a larger one is refused.

    Returns:
        The decoded text with ``\\n`` newlines.

    Raises:
        ArticleReadError: If the file is not a regular file (a folder, a FIFO, a device, a
            socket), is larger than ``max_bytes``, cannot be opened, is empty or only
            whitespace, looks like a binary file (an image, an archive, bytes with NULs), or is
            in an encoding that is not recognised.
    """
    data = read_bytes_bounded(path, max_bytes)
    text = _decode(data, str(path))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleReadError(str(path), "the file is empty (it holds only whitespace)")
    return text


def read_bytes_bounded(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    The file is opened without blocking and checked once open, so a FIFO, a device or a link
    to one (``/dev/zero``) is refused rather than read, and a file that grows while it is read
    is read no further than the limit.

    Raises:
        ArticleReadError: If the file cannot be opened, is not a regular file, or is too large.
    """
    where = str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ArticleReadError(where, f"cannot read the file: {exc.strerror or exc}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise ArticleReadError(where, not_regular_reason(mode))
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ArticleReadError(where, f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise ArticleReadError(where, too_large_reason(max_bytes))
    return data


def not_regular_reason(mode: int) -> str:
    """Why a file of this mode (``os.stat().st_mode``) is not read."""
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else
            "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"is {kind}, not a regular file; only regular files are read as articles"


def too_large_reason(max_bytes: int) -> str:
    """Why a file over the size limit is not read."""
    return (f"the file is larger than the limit of {format_size(max_bytes)} for one file; "
            "split it, or raise the limit (`articleqa ingest --max-file-size`, "
            "ArticleIndex.ingest(max_file_bytes=...))")


def format_size(size: int) -> str:
    """A byte count for people: "64 MiB", "1.5 KiB", "12 bytes"."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"


def _decode(data: bytes, where: str) -> str:
    if not data:
        raise ArticleReadError(where, "the file is empty")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ArticleReadError(
                    where,
                    f"the file starts with a {name} byte-order mark but is not valid {name} "
                    f"(at byte {exc.start}); {_CONVERT_HINT}",
                ) from None
    if not data.strip():
        raise ArticleReadError(where, "the file is empty (it holds only whitespace)")
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ArticleReadError(
                where, f"this looks like {kind}, a binary file, not an article in text form"
            )
    if b"\x00" in data:
        if _looks_like_wide_unicode(data):
            raise ArticleReadError(
                where,
                "the encoding is not recognised (it looks like UTF-16 or UTF-32 without a "
                f"byte-order mark); {_CONVERT_HINT}",
            )
        raise ArticleReadError(
            where, "the file contains NUL bytes: it looks like a binary file, not an article"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ArticleReadError(
                where,
                f"the encoding is not recognised (byte 0x{data[exc.start]:02X} at offset "
                f"{exc.start} is neither UTF-8 nor Windows-1252/Latin-1); {_CONVERT_HINT}",
            ) from None
    if _CONTROL_CHARS.search(text):
        raise ArticleReadError(
            where,
            "the file contains control characters: it looks like a binary file, not an article",
        )
    if _C1_CHARS.search(text):
        raise ArticleReadError(
            where,
            "the encoding is not recognised (the text holds C1 control characters "
            f"U+0080-U+009F, a sign of a wrong conversion); {_CONVERT_HINT}",
        )
    return text


def _looks_like_wide_unicode(data: bytes) -> bool:
    """True if NUL bytes sit in a regular column, as ASCII text in UTF-16/32 without a BOM."""
    for width in (2, 4):
        if len(data) % width:
            continue
        columns = [data[i::width] for i in range(width)]
        if any(col and col.count(0) < len(col) * 0.05 for col in columns) and any(
            col and col.count(0) > len(col) * 0.6 for col in columns
        ):
            return True
    return False
