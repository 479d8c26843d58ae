"""Lexical matching: the tokenizer behind BM25, and the query it sends to SQLite FTS5.

The store keeps a BM25 index (SQLite FTS5, Porter stemming) over the terms this module makes of
each passage with its headline in front, so a passage that says "He stressed" still matches the
name in the headline. The same function makes the terms of a question, so both sides agree:

- case, accents and punctuation are dropped ("Cybercrime?" -> cybercrime);
- possessives are cut ("Hammouchi's" -> hammouchi);
- a word with a doubled letter also yields its single-letter spelling, so variant spellings of
  a name meet ("Hammouchi" and "Hamouchi" -> hamouchi; "Randall" and "Randal" -> randal);
- common English words are left out of both;
- Chinese and Japanese, written without spaces, become overlapping character pairs
  ("经济增长" -> 经济, 济增, 增长), so a question matches a passage on its words whatever the
  run of characters around them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from articleqa.vocab import STOPWORDS

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*[^\W_]*|[^\W\d_]+(?:['’][^\W\d_]+)*")
_DOUBLED = re.compile(r"([^\W\d_])\1+")
# Han ideographs (with extension A and compatibility forms), hiragana and katakana.
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def terms(text: str) -> list[str]:
    """The BM25 terms of a text, in order (see the module docstring)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    out = []
    for token in _TOKEN.findall(folded):
        token = re.sub(r"['’]s$", "", token).replace("'", "").replace("’", "")
        if not token or token in STOPWORDS:
            continue
        if _CJK.search(token):
            out.extend(_cjk_terms(token))
            continue
        out.append(token)
        single = _DOUBLED.sub(r"\1", token)
        if single != token and not token[0].isdigit():
            out.append(single)
    return out


def _cjk_terms(token: str) -> list[str]:
    """A token with Chinese or Japanese in it: each run of such characters as overlapping
    pairs (one character alone stays one), the rest as it is."""
    out = []
    for piece in _CJK.split(token):
        if not piece:
            continue
        if _CJK.fullmatch(piece):
            out.extend(piece[i : i + 2] for i in range(max(1, len(piece) - 1)))
        else:
            out.append(piece)
    return out


def fts_query(text: str, left_out: Collection[str] = ()) -> str | None:
    """An FTS5 query matching passages that share any term with ``text``, but those in
    ``left_out`` (None if no term is left)."""
    kept = [term for term in dict.fromkeys(terms(text)) if term not in left_out]
    return " OR ".join(f'"{term}"' for term in kept) or None


def passage_for_embedding(title: str, text: str) -> str:
    """What is embedded (and made into BM25 terms) for a passage: the headline, then the
    passage, so that "He stressed that ..." is read with the name in the headline."""
    return f"{title}\n{text}"
