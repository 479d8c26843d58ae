"""Lexical matching: the tokenizer behind BM25, and the query it sends to SQLite FTS5.

The store keeps a BM25 index (SQLite FTS5, Porter stemming) over the terms this module makes of
each passage with its headline in front, so a passage that says "He stressed" still matches the
name in the headline. The same function makes the terms of a question, so both sides agree:

- case, accents and punctuation are dropped ("Cybercrime?" -> cybercrime);
- possessives are cut ("Hammouchi's" -> hammouchi);
- a word with a doubled letter also yields its single-letter spelling, so variant spellings of
  a name meet ("Hammouchi" and "Hamouchi" -> hamouchi; "Randall" and "Randal" -> randal);
- common English words are left out of both.
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*[^\W_]*|[^\W\d_]+(?:['’][^\W\d_]+)*")
_DOUBLED = re.compile(r"([^\W\d_])\1+")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during each
    else few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on once
    only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves said say says saying tell told according""".split()
)


def terms(text: str) -> list[str]:
    """The BM25 terms of a text, in order (see the module docstring)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    out = []
    for token in _TOKEN.findall(folded):
        token = re.sub(r"['’]s$", "", token).replace("'", "").replace("’", "")
        if not token or token in STOPWORDS:
            continue
        out.append(token)
        single = _DOUBLED.sub(r"\1", token)
        if single != token and not token[0].isdigit():
            out.append(single)
    return out


def fts_query(text: str) -> str | None:
    """An FTS5 query matching passages that share any term with ``text`` (None if no terms)."""
    unique = dict.fromkeys(terms(text))
    return " OR ".join(f'"{term}"' for term in unique) or None
