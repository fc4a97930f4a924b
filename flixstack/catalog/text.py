"""Text folding and tokenising for search: one definition for the index and the query.

Viewers type on phones, without accents, in whatever case: "coeur" must find "Le Cœur
Sauvage" and "ULTIMA" must find "La Última Frontera". So both sides go through the same
:func:`fold` (case folding, letters that Unicode does not decompose spelled out, NFKD,
combining marks dropped) and :func:`tokens`. Anything that is not a letter or a digit
separates tokens: "L'Été" gives ``l``, ``ete`` and "sci-fi" gives ``sci``, ``fi``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that NFKD leaves whole (they are letters of their own, not a base letter plus a
# mark), spelled the way a viewer without the key types them. ``casefold`` has already
# turned ß into ss and capitals into these lower-case forms.
_SPELLED_OUT = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ł": "l",
        "ı": "i",  # noqa: RUF001
        "ħ": "h",
        "ŧ": "t",
    }
)
_TOKEN = re.compile(r"[^\W_]+")
_CHUNK = re.compile(r"\S+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, accent-free text: ``fold("Le Cœur Sauvage") == "le coeur sauvage"``."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED_OUT))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, in order (what a query is made of)."""
    return _TOKEN.findall(fold(text))


def index_tokens(text: str) -> list[str]:
    """:func:`tokens` plus the joined form of each hyphenated or elided word.

    "Spider-Man" is indexed as ``spider``, ``man`` and ``spiderman``, so a viewer who types
    it as one word finds it too; the query side never joins (it need not).
    """
    found = tokens(text)
    for chunk in _CHUNK.findall(text):
        parts = tokens(chunk)
        if len(parts) > 1:
            found.append("".join(parts))
    return found
