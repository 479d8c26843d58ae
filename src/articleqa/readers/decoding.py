"""Article files as text, whatever common encoding they were saved in."""

from __future__ import annotations

import codecs
import re
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


def read_text_file(path: Path) -> str:
    """Read an article file as text, whatever common encoding it was saved in.

    Byte-order marks (UTF-8, UTF-16, UTF-32) are honoured; otherwise the bytes are tried as
    strict UTF-8, then as Windows-1252 (which reads Latin-1 text the same for letters and signs).
    Newlines are normalised to ``\\n``.

    Args:
        path: The file to read.

    Returns:
        The decoded text with ``\\n`` newlines.

    Raises:
        ArticleReadError: If the file cannot be opened, is empty or only whitespace, looks like a
            binary file (an image, an archive, bytes with NULs), or is in an encoding that is
            not recognised.
    """
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise ArticleReadError(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise ArticleReadError(str(path), f"cannot read the file: {exc.strerror or exc}") from exc
    text = _decode(data, str(path))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleReadError(str(path), "the file is empty (it holds only whitespace)")
    return text


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
