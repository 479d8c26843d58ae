"""Conversation state: follow-up questions made standalone from the turns before them.

A chat user asks "What did Hammouchi say about cybercrime?", then "What did he say about women
in the police?". The index can only search the second if it names Hammouchi, so each question is
resolved against the earlier user questions (and, failing those, the last reply) before it is
searched. Earlier replies are read from the :class:`~articleqa.answering.Answer` each was made
from when the conversation carries it (as a message's ``"answer"`` or in its ``"metadata"``, as
the chat page does): whose words it quoted, its quotes and their articles. This is text logic,
no model; the rules, in the order they apply:

1. **Elliptical questions** take the frame of the previous question. "And about women in the
   police?" / "What about X?" replace the previous question's "about ..." part (or add one when
   it asks what someone said); "And last year?" replaces its time ("in 2004"); "And Google?"
   replaces its subject; "And in Japan?" is added to it; "What else?" / "Tell me more" repeat it.
2. **Pronouns and roles** are replaced by the person or organisation the conversation is about,
   newest question first. "he", "she", "him", "his", "her": the most recent person (a name that
   says, thinks, promises ...; a title such as "President X"; a role such as "the chancellor",
   kept as the phrase), else the person whose own words the last answer quoted (its ``speaker``;
   read from the reply's text, "..., Hammouchi said:", when the conversation carries only text),
   else the most recent other name that is not an event's ("the Academy Awards"). "they",
   "them", "their", "its" and "the company" / "the firm" / "the group" / "the club" ...: the
   most recent organisation (a name with Inc, Group, Bank, Athletics ... in it; an acronym;
   the subject of "make", "pay", "buy" ...), else the subject or owner ("Sony" in "Sony's
   PSP") of a recent question, or an event for "they"; a name merely mentioned ("offers for
   Steven Gerrard") is too often a person. Possessives become "<subject>'s". Only
   the first such word is replaced; later ones then read naturally ("What did Hammouchi say
   about his ..."). A pronoun is left alone when a name it can stand for comes before it in the
   question itself ("Does Musharaf think he ...", "Who heads the list ... his father").
3. **Anything else that points back** gets the previous question appended in brackets, so the
   search sees both: "that" / "this" used as a pronoun ("What does that work out at per hour?"),
   "it" in a question that names nothing ("How much will it cost?"), a pronoun whose referent is
   unclear (the question names its own person: "What did the Birmingham manager say about
   selling him?"), and questions of question words only ("Why?").

A question that names its own subject and points back at nothing ("What did Laftit say?") is
returned unchanged. Follow-ups of follow-ups work because the user turns are resolved in order,
each against the resolved ones before it. History is Gradio's chat format (see
:func:`message_text`); a trailing user message equal to the question (the question echoed into
the history) is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from articleqa.answering import MARKER
from articleqa.lexical import terms
from articleqa.vocab import (
    AUXILIARIES,
    BUSINESS_VERBS,
    CONNECTIVES,
    EVENT_WORDS,
    MONTHS,
    ORGANISATION_NOUNS,
    ORGANISATION_WORDS,
    PERSON_ROLES,
    REPLY_SPEECH_VERBS,
    STOPWORDS,
    SUBJECT_SPEECH_VERBS,
    TITLE_ROLES,
    TITLES,
    WEEKDAYS,
)


@dataclass(frozen=True)
class FollowUp:
    """A question resolved against the conversation before it.

    Attributes:
        question: The standalone question to search with (the question as asked when it needs
            nothing from the conversation).
        is_follow_up: Whether the conversation was used to make ``question``.
        subject: The person or organisation carried over from the conversation, if any.
        wants_more: The user asks for more of the same ("What else did he say?", "Tell me
            more", "What did she also say?").
        quoted: The quotes of the earlier replies in this conversation, in order, so that an
            answer to a ``wants_more`` question need not repeat them.
        context: The previous (resolved) user question it was resolved against; "" if none.
        core: ``question`` without the earlier questions appended to it in brackets: what the
            answer's sentences are scored against ("How much will it cost in Japan?" where
            ``question`` is "How much will it cost in Japan? (When does the PSP go on sale?)").
    """

    question: str
    is_follow_up: bool = False
    subject: str | None = None
    wants_more: bool = False
    quoted: tuple[str, ...] = ()
    context: str = ""
    core: str = ""

    def __post_init__(self) -> None:
        if not self.core:
            object.__setattr__(self, "core", self.question)


def resolve_follow_up(question: str, history: Sequence[Mapping[str, object]] | None) -> FollowUp:
    """Makes ``question`` standalone using the conversation before it (see the module docstring).

    Args:
        question: The new question.
        history: The conversation so far, as Gradio chat messages (``{"role": "user" |
            "assistant", "content": ...}``), oldest first; None or [] for none.

    Returns:
        The resolved question; ``question`` itself (stripped) when it is not a follow-up.

    Raises:
        ValueError: If the question is not text or is empty.
        TypeError: If ``history`` is not a list of chat messages.
    """
    if not isinstance(question, str):
        raise ValueError(f"the question is {type(question).__name__}, not text")
    if not question.strip():
        raise ValueError("the question is empty; ask something")
    turns = _turns(history)
    if turns and turns[-1].role == "user" and _same(turns[-1].text, question):
        turns.pop()  # the question itself, already added to the history by the caller
    return _resolve_turns([*turns, _Turn("user", question)])[-1]


def resolve_conversation(history: Sequence[Mapping[str, object]] | None) -> list[FollowUp]:
    """Every user question of a conversation resolved against the turns before it, in order.

    Raises:
        TypeError: If ``history`` is not a list of chat messages.
    """
    return _resolve_turns(_turns(history))


def history_questions(history: Sequence[Mapping[str, object]] | None) -> list[str]:
    """The text of the user messages of a conversation, in order (empty ones left out).

    Raises:
        TypeError: If ``history`` is not a list of chat messages.
    """
    return [turn.text for turn in _turns(history) if turn.role == "user"]


def conversation_quotes(history: Sequence[Mapping[str, object]] | None) -> tuple[str, ...]:
    """The quotes given in the assistant replies of a conversation, in order, without repeats.

    A quote is text inside “...” or "...", or a Markdown blockquote line (``> ... [1]``) as the
    extractive answers print them, with its ``[n]`` markers removed; a quote cut with an
    ellipsis ("... stability") gives its pieces. Quotes of fewer than three content words, and
    quotes inside a longer one, are left out; replies saying the articles do not answer are
    skipped (their lines are headlines, not quotes).

    Raises:
        TypeError: If ``history`` is not a list of chat messages.
    """
    return _all_quotes([_reply(turn) for turn in _turns(history) if turn.role == "assistant"])


def message_text(content: object) -> str:
    """The text of a chat message's content, whatever Gradio version made it.

    A string is the text; a dict gives its ``"text"``; a list gives the text of its parts
    (strings or ``{"type": "text", "text": ...}``), one per line. Files (tuples of paths, dicts
    with a ``"path"``), components and None have no text: "".
    """
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, list):
        return "\n".join(part for part in map(message_text, content) if part)
    return ""


# -- conversation ----------------------------------------------------------------------------

_USER_ROLES = frozenset({"user", "human"})
_ASSISTANT_ROLES = frozenset({"assistant", "bot", "ai"})


@dataclass(frozen=True)
class _Turn:
    role: str  # "user" or "assistant"
    text: str
    answer: object = None  # the Answer the reply was made from (or its JSON), when given


@dataclass(frozen=True)
class _Reply:
    """What later questions need of an earlier reply."""

    speaker: str | None  # whose own words it quoted, else the first its quotes say spoke
    quotes: tuple[str, ...]
    articles: tuple[str, ...]  # the ids of the articles it quoted, in order


def _reply(turn: _Turn) -> _Reply:
    """An earlier reply read from its :class:`~articleqa.answering.Answer` (or that answer's
    JSON) when the conversation carries it; from its text otherwise (a client that keeps only
    the text: then the speaker is the first "X said" and the quotes are the quoted text)."""
    answer = turn.answer
    if answer is None:
        if _REFUSAL.search(turn.text):
            return _Reply(None, (), ())
        return _Reply(_speaker(turn.text), _text_quotes(turn.text), ())
    field = answer.get if isinstance(answer, Mapping) else (
        lambda name, default=None: getattr(answer, name, default))
    if not field("answered", True):
        return _Reply(None, (), ())
    speaker = field("speaker")
    quotes, articles = [], []
    for citation in field("citations") or ():
        if isinstance(citation, Mapping):
            quotes.append(str(citation.get("quote") or ""))
            hit = citation.get("hit")
            article = hit.get("article") if isinstance(hit, Mapping) else None
            article_id = article.get("id") if isinstance(article, Mapping) else None
        else:
            quotes.append(citation.quote)
            article_id = citation.hit.article.id
        if article_id:
            articles.append(str(article_id))
    if not isinstance(speaker, str) or not speaker:  # else the first the quotes say spoke
        speaker = next(filter(None, map(_speaker, quotes)), None)
    return _Reply(speaker, tuple(quotes), tuple(dict.fromkeys(articles)))


def earlier_answer_articles(history: Sequence[Mapping[str, object]] | None) -> tuple[str, ...]:
    """The ids of the articles the last earlier answer quoted, read from its structure: an
    assistant message's ``"answer"`` (an :class:`~articleqa.answering.Answer`, or its JSON from
    :func:`~articleqa.answering.answer_to_json`), also looked for in its ``"metadata"``. Empty
    when no assistant message carries one, or the last that does quoted nothing."""
    for turn in reversed(_turns(history)):
        if turn.answer is not None:
            return _reply(turn).articles
    return ()


def _answer_of(message: object) -> object:
    """The Answer an assistant message carries, as ``"answer"`` or in its ``"metadata"``."""
    if isinstance(message, Mapping):
        answer, metadata = message.get("answer"), message.get("metadata")
    else:
        answer, metadata = getattr(message, "answer", None), getattr(message, "metadata", None)
    if answer is None and isinstance(metadata, Mapping):
        answer = metadata.get("answer")
    return answer if isinstance(answer, Mapping) or hasattr(answer, "citations") else None


def _turns(history: object) -> list[_Turn]:
    """Each message with text, or with an answer; other roles left out.

    Accepts messages as dicts or objects with ``role`` and ``content`` (Gradio's ChatMessage),
    and the older Gradio pairs format (``[[user, assistant], ...]``).
    """
    if history is None:
        return []
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Iterable):
        raise TypeError(f"history is {type(history).__name__}; pass a list of chat messages "
                        "such as [{'role': 'user', 'content': 'What did Hammouchi say?'}]")
    turns = []
    for number, message in enumerate(history):
        if message is None:
            continue
        if isinstance(message, Mapping):
            pairs = [(message.get("role"), message.get("content"), _answer_of(message))]
        elif isinstance(message, (list, tuple)) and len(message) == 2:
            pairs = [("user", message[0], None), ("assistant", message[1], None)]
        elif hasattr(message, "role") and hasattr(message, "content"):
            pairs = [(message.role, message.content, _answer_of(message))]
        else:
            raise TypeError(f"history message {number} is {type(message).__name__}, not a chat "
                            "message; use {'role': 'user' or 'assistant', 'content': text}")
        for role, content, answer in pairs:
            role = role.casefold() if isinstance(role, str) else ""
            if role in _USER_ROLES:
                text = " ".join(message_text(content).split())
                if text:
                    turns.append(_Turn("user", text))
            elif role in _ASSISTANT_ROLES:
                text = message_text(content).strip()
                if text or answer is not None:
                    turns.append(_Turn("assistant", text, answer))
    return turns


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


_REFUSAL = re.compile(r"^\W*The indexed articles do not answer", re.IGNORECASE)
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"\n]+)\"")
_BLOCKQUOTE = re.compile(r"^[ \t]*>[ \t]?(.*)$", re.MULTILINE)
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[\.\.\.\])\s*")


def _all_quotes(replies: Sequence[_Reply]) -> tuple[str, ...]:
    """The distinct quotes of a conversation's replies, in order."""
    return _distinct_quotes(quote for reply in replies for quote in reply.quotes)


def _text_quotes(reply: str) -> tuple[str, ...]:
    """The quotes of a reply known only as text: quoted text and Markdown blockquote lines."""
    return (*_BLOCKQUOTE.findall(reply), *(a or b for a, b in _QUOTED.findall(reply)))


def _distinct_quotes(quotes: Iterable[str]) -> tuple[str, ...]:
    """Quotes without their markers, cut at ellipses, without short ones and repeats."""
    cleaned = []
    for quote in quotes:
        for piece in _ELLIPSIS.split(MARKER.sub("", quote)):  # "... stability" is a fragment
            piece = " ".join(piece.split()).strip(" .…,;:-“”\"")
            if len(terms(piece)) >= 3:
                cleaned.append(piece)
    keys = [q.casefold() for q in cleaned]
    kept: list[str] = []
    for number, quote in enumerate(cleaned):
        key = keys[number]
        inside_another = any(key != other and key in other for other in keys)
        if not inside_another and key not in (k.casefold() for k in kept):
            kept.append(quote)
    return tuple(kept)


# -- who and what a question names -----------------------------------------------------------

_ROLE_WORDS = "|".join(role.replace(" ", r"\s+") for role in PERSON_ROLES)
_TITLE_WORDS = "|".join(role.replace(" ", r"\s+") for role in TITLE_ROLES)
_ORG_NOUNS = "|".join(ORGANISATION_NOUNS)
#: Words that a later "he", "his", "they", "their" can stand for within the same question.
_INDEFINITES = frozenset("""someone somebody anyone anybody everyone everybody nobody people
    each""".split())
_CONNECTORS = frozenset({"&", "of", "de", "del", "da", "di", "van", "von", "der", "al", "el", "bin",
                         "le", "la", "du"})
_CALENDAR = frozenset(MONTHS + WEEKDAYS)
#: Capitalised words that open a question or sentence without naming anyone.
_OPENERS = STOPWORDS | frozenset("""please tell give show list explain describe summarise
    summarize compare name find ok okay yes hi hello thanks thank whose since during last next
    these those also anything something according i'm""".split())

_CAPWORD = r"(?:[A-Z][\w'’.&-]*|\d{1,3}(?=\s+[A-Z]))"
# At most eight words: unbounded, a search is quadratic on a long run of capitalised words.
_NAME = rf"{_CAPWORD}(?:\s+(?:{_CAPWORD}|&)){{0,7}}"
_ROLE_PHRASE = re.compile(
    rf"\b(?:(?P<det>[Tt]he|[Ww]hich|[Aa]n?)|(?P<owner>{_NAME})['’]s)\s+"
    rf"(?P<mods>(?:(?:{_CAPWORD}|&)\s+){{0,7}}(?:[a-z][\w-]*\s+){{0,2}}?)"
    rf"(?P<role>{_ROLE_WORDS})(?![\w-])"
    rf"(?P<of>\s+of\s+(?:the\s+)?{_NAME})?"
)
_ORG_ANAPHOR = re.compile(rf"\b[Tt]he\s+(?:{_ORG_NOUNS})(?P<poss>['’]s)?(?![\w-])")
_TOKEN = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*['’]?|&")
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass(frozen=True)
class _Mention:
    """A person, organisation or other name in a question.

    ``kind`` is "person", "org" or "name" (could be either, or a thing); ``place`` is "" or
    "possessor" ("Sony" in "Sony's PSP"), "possessed" ("PSP") or "modifier" ("Fiat" in "the
    Fiat chief executive", "GM" in "the GM pay-off"); ``subject`` is True for the grammatical
    subject ("did X say"); ``corporate`` for the subject of a business verb ("did X earn").
    """

    text: str
    kind: str
    start: int
    end: int
    subject: bool = False
    place: str = ""
    corporate: bool = False


def _mentions(text: str) -> list[_Mention]:
    """The names and role phrases of a question, in order."""
    tokens = list(_TOKEN.finditer(text))
    mentions: list[_Mention] = []
    spans: list[tuple[int, int]] = []
    for match in _ROLE_PHRASE.finditer(text):
        if any(word in STOPWORDS for word in match.group("mods").split() if word.islower()):
            continue
        spans.append((match.start("mods") if match.group("owner") else match.start(),
                      match.end()))
        if match.group("det") and match.group("det").lower() != "the":
            continue  # "which Spanish broadcaster": no one in particular
        phrase = match.group()
        if phrase.startswith("The "):
            phrase = "the" + phrase[3:]
        subject = _is_subject(text, match.start())
        mentions.append(_Mention(phrase, "person", match.start(), match.end(), subject))
    for first, last in _name_runs(text, tokens):
        start, end = tokens[first].start(), tokens[last].end()
        word, place = text[start:end], ""
        if _POSSESSIVE.search(word):
            word = _POSSESSIVE.sub("", word)
            end, place = start + len(word), "possessor"
        before = text[:start]
        if re.search(r"(?:\b(?:his|her|its|their)|['’]s?)\s*$", before):
            place = place or "possessed"
        subject = _is_subject(text, start)
        following = tokens[last + 1].group() if last + 1 < len(tokens) else ""
        joined = following and text[end:tokens[last + 1].start()] == " "
        determiner = re.search(r"(?:\b(?:the|a|an|which|his|her|its|their)|['’]s?)\s*$", before)
        if any(a <= start and end <= b for a, b in spans) or (
            joined and not subject and following.islower() and place != "possessor"
            and following not in STOPWORDS and (determiner or _names_a_role(following))
        ):
            place = "modifier"
        kind, corporate = _kind(word, text, start, end, subject)
        if place != "modifier" and re.search(r"(?:^|\s)the $", before):
            start -= 4  # "the US", "the Six Nations"
            word = text[start:end]
        mentions.append(_Mention(word, kind, start, end, subject, place, corporate))
    return _named_after_role(sorted(mentions, key=lambda m: (m.start, -m.end)), text)


def _named_after_role(mentions: list[_Mention], text: str) -> list[_Mention]:
    """A role phrase followed by the person's name ("the Beverly Hillbillies theme singer Jerry
    Scoggins") describes that name: the name is the person meant (and the subject, if the
    phrase was), the phrase a modifier of it."""
    for index, role in enumerate(mentions):
        if role.kind != "person" or role.place:
            continue
        name = next((m for m in mentions[index + 1:] if m.start == role.end + 1
                     and m.kind == "person" and not m.place
                     and not any(_names_a_role(w.casefold()) for w in m.text.split())), None)
        if name is not None and text[role.end:name.start] == " ":
            mentions[index] = replace(role, place="modifier", subject=False)
            mentions[mentions.index(name)] = replace(name, subject=name.subject or role.subject)
    return mentions


def _names_a_role(word: str) -> bool:
    """Whether a name before ``word`` describes a role ("Tory leader", "Spanish broadcaster")."""
    return (word in PERSON_ROLES or re.fullmatch(_ORG_NOUNS, word) is not None
            or any(role.startswith(word + " ") for role in PERSON_ROLES))


def _name_runs(text: str, tokens: list[re.Match[str]]) -> list[tuple[int, int]]:
    """(first, last) token indexes of each run of capitalised words that names something."""
    runs = []
    index = 0
    while index < len(tokens):
        if not _opens_name(text, tokens, index):
            index += 1
            continue
        last = index
        while not _POSSESSIVE.search(tokens[last].group()):  # a possessive ends a name
            step = last + 1
            if step < len(tokens) and _adjacent(text, tokens[last], tokens[step]):
                word = tokens[step].group()
                if _capitalised(word):
                    last = step
                    continue
                if (word in _CONNECTORS and step + 1 < len(tokens)
                        and _adjacent(text, tokens[step], tokens[step + 1])
                        and _capitalised(tokens[step + 1].group())):
                    last = step + 1
                    continue
            break
        words = [t.group().casefold() for t in tokens[index:last + 1]]
        if not (len(words) == 1 and _POSSESSIVE.sub("", words[0]) in _CALENDAR):
            runs.append((index, last))
        index = last + 1
    return runs


def _opens_name(text: str, tokens: list[re.Match[str]], index: int) -> bool:
    word = tokens[index].group()
    if word[:1].isdigit():
        return (len(word) <= 3 and word.isdigit() and index + 1 < len(tokens)
                and _adjacent(text, tokens[index], tokens[index + 1])
                and _capitalised(tokens[index + 1].group()))  # "50 Cent"
    if not _capitalised(word) or re.fullmatch(r"I(?:['’]\w+)?", word):
        return False
    folded = _POSSESSIVE.sub("", word.casefold())
    return not (_sentence_start(text, tokens[index].start()) and folded in _OPENERS)


def _capitalised(word: str) -> bool:
    """A word that can be part of a name: "Hammouchi", "US", "iPhone", "eBay"."""
    return word[:1].isupper() or (word[:1].islower() and not word.islower()
                                  and not word.isupper())


def _adjacent(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    return text[a.end():b.start()] == " "


def _sentence_start(text: str, offset: int) -> bool:
    return re.search(r"(?:^|[.?!:;]\s*)[\"“(]?\s*$", text[:offset]) is not None


_BEFORE_SUBJECT = re.compile(
    rf"(?:\b(?:{'|'.join(AUXILIARIES)})\s+|^\W*(?:(?:and|but|so)\s+)?)(?:the\s+)?"
    rf"(?:(?:{_TITLE_WORDS})\s+)?$",
    re.IGNORECASE)


def _is_subject(text: str, start: int) -> bool:
    """Whether the words at ``start`` are the subject: after "did", "is", ... (and perhaps a
    role: "did director Mark Rothemond"), or opening the question."""
    return _BEFORE_SUBJECT.search(text[:start]) is not None


def _kind(name: str, text: str, start: int, end: int, subject: bool) -> tuple[str, bool]:
    """The kind of a name ("person", "org", "event" or "name") and whether it is corporate."""
    words = [w.casefold().strip(".") for w in re.findall(r"[\w'’.&-]+", name)]
    if len(words) > 1 and words[0] in TITLES:
        return "person", False
    if any(w in EVENT_WORDS for w in words):
        return "event", False
    if any(w in ORGANISATION_WORDS or w.endswith(("group", "corp", "bank")) for w in words):
        return "org", False
    if re.fullmatch(r"[A-Z][A-Z0-9&.]{1,5}", name):
        return "org", False
    role = re.search(r"\b([a-z]+)\s+$", text[:start])
    if role and role.group(1) in TITLE_ROLES:
        return "person", False  # "director Mark Rothemond", "Tory leader Michael Howard"
    verb = re.match(r"\s+(?:also\s+)?([a-z]+)", text[end:])
    if subject and verb:
        if verb.group(1) in SUBJECT_SPEECH_VERBS:
            return "person", False
        if verb.group(1) in BUSINESS_VERBS:
            return "name", True
    return "name", False


def _principal(mentions: Sequence[_Mention]) -> _Mention | None:
    """The mention a question is about: its subject, else a person, else the first name."""
    usable = [m for m in mentions if m.place not in ("modifier", "possessed")]
    for test in (lambda m: m.subject, lambda m: m.kind == "person", lambda m: True):
        for mention in usable:
            if test(mention):
                return mention
    return mentions[0] if mentions else None


# -- resolving one question ------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    core: str  # the question made standalone, without the bracketed context
    context: tuple[str, ...]  # earlier questions appended in brackets (at most two)
    follow: FollowUp


def _full(core: str, context: Sequence[str]) -> str:
    return f"{core} ({' '.join(context)})" if context else core


def _resolve_turns(turns: Sequence[_Turn]) -> list[FollowUp]:
    resolved: list[_Resolved] = []
    replies: list[_Reply] = []
    for turn in turns:
        if turn.role == "assistant":
            replies.append(_reply(turn))
            continue
        speaker = replies[-1].speaker if replies else None
        resolved.append(_resolve(turn.text, resolved, speaker, _all_quotes(replies)))
    return [r.follow for r in resolved]


_CONNECTIVE = re.compile(rf"^(?:(?:{'|'.join(CONNECTIVES)})\b[\s,]*)+", re.IGNORECASE)
_MORE_ONLY = re.compile(
    r"(?:(?:what|anything|something|who|where|when)\s+else|(?:tell\s+me\s+|say\s+|anything\s+"
    r"|something\s+|any\s*)?more|go\s+on|continue|keep\s+going)(?:\s+please)?\W*",
    re.IGNORECASE)
_ABOUT_TOPIC = re.compile(
    r"(?:(?:what|how)\s+about|(?:tell\s+me\s+|say\s+)?(?:anything\s+|some\s+)?more\s+(?:about|on)"
    r"|about|regarding|concerning|as\s+(?:for|to))\s+(?P<topic>.+?)[\s?.!]*",
    re.IGNORECASE)
_QUESTION_START = re.compile(
    r"(?:what|how|who|whom|whose|why|when|where|which|did|does|do|is|are|was|were|has|have|had|"
    r"can|could|will|would|should|may|might|must|shall|tell|give|show|list|explain|describe|"
    r"he|she|they|it|i|we|you)\b", re.IGNORECASE)
_FRAGMENT_START = re.compile(
    r"(?:in|on|at|for|during|since|from|before|after|by|over|last|next|this|earlier|later)\b",
    re.IGNORECASE)
_MORE = re.compile(
    r"\b(?:else|also)\b"
    r"|\b(?:any|anything|something|some|me|say|said|no|nothing|what)\s+more\b(?!\s+(?:than\b|\w+er\b))"
    r"|\bmore\s*(?:[?.!]|$)|\bmore\s+(?:about|on|from|of|quotes?|details?|information|comments?)\b"
    r"|\b(?:what|any|which)\s+other\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(?:(?:in|during|for|over|since|by|before|after|until|from|at)\s+)?(?:"
    r"(?:the\s+)?(?:first|second|third|fourth|final|last|past|previous|next|same|this|that)\s+"
    r"(?:quarter|half|year|month|week|season|decade|century|weekend|summer|winter|spring|autumn)"
    r"(?:\s+of\s+(?:19|20)\d\d)?"
    rf"|(?:(?:early|late|mid)[\s-])?(?:{'|'.join(MONTHS)})(?:\s+(?:19|20)\d\d)?"
    r"|(?:19|20)\d\d(?:[-–/]\d{2,4})?"
    r"|yesterday|today|tomorrow|last\s+night|a\s+year\s+(?:ago|earlier|before))\b",
    re.IGNORECASE)


def _resolve(question: str, earlier: Sequence[_Resolved], speaker: str | None,
             quoted: tuple[str, ...]) -> _Resolved:
    question = " ".join(question.split())
    wants_more = _MORE.search(question) is not None
    unchanged = _Resolved(question, (), FollowUp(question, wants_more=wants_more, quoted=quoted))
    previous = earlier[-1] if earlier else None
    if previous is not None:
        merged = _merge_ellipsis(question, previous.core)
        if merged is not None:
            core, more, subject = merged
            core, put_in, _ = _substitute(core, earlier, speaker)
            subject = subject or put_in or _subject_of(previous)
            context = _full(previous.core, previous.context)
            return _Resolved(core, previous.context, FollowUp(
                _full(core, previous.context), True, subject, wants_more or more, quoted,
                context, core))
    if not earlier and speaker is None:
        return unchanged
    core, subject, unclear = _substitute(question, earlier, speaker)
    if previous is not None and (unclear or _points_back(question, core)):
        context = (previous.core, *previous.context[:1])
        subject = subject or _subject_of(previous)
        return _Resolved(core, context, FollowUp(
            _full(core, context), True, subject, wants_more, quoted,
            _full(previous.core, previous.context), core))
    if core == question:
        return unchanged
    context = _full(previous.core, previous.context) if previous is not None else ""
    return _Resolved(core, (), FollowUp(core, True, subject, wants_more, quoted, context))


def _subject_of(turn: _Resolved) -> str | None:
    """Who or what a resolved question is about (its context's, if it names no one)."""
    for text in (turn.core, *turn.context):
        principal = _principal(_mentions(text))
        if principal is not None:
            return principal.text
    return None


def _merge_ellipsis(question: str, previous: str) -> tuple[str, bool, str | None] | None:
    """The previous question re-framed by an elliptical one, whether it asks for more, and the
    new subject if it put one in ("And Google?"); None if the question is not elliptical."""
    connective = _CONNECTIVE.match(question)
    rest = question[connective.end():] if connective else question
    rest = rest.strip()
    if not rest:
        return None
    first = rest.split()[0]
    if first.casefold() in _OPENERS or _FRAGMENT_START.fullmatch(first):
        rest = rest[:1].lower() + rest[1:]  # "In Japan?" goes inside the previous question
    if _MORE_ONLY.fullmatch(rest):
        return previous, True, None
    about = _ABOUT_TOPIC.fullmatch(rest)
    if about:
        core, subject = _merge_topic(previous, about.group("topic"), about=True)
        return core, False, subject
    words = rest.rstrip("?.! ").split()
    fragment = not _QUESTION_START.match(rest) and (
        (connective is not None and len(words) <= 8)  # "And last year?"
        or (_FRAGMENT_START.match(rest) is not None and len(words) <= 5))  # "In Japan?"
    if not fragment or any(_has_verb(rest, m) for m in _mentions(rest) if m.subject):
        return None  # "And Google bought Keyhole?" is a question of its own
    core, subject = _merge_topic(previous, rest.rstrip("?.! "), about=False)
    return core, False, subject


def _has_verb(text: str, mention: _Mention) -> bool:
    following = re.match(r"\s+([a-z]+)\b", text[mention.end:])
    return following is not None and following.group(1) not in STOPWORDS and not (
        _FRAGMENT_START.fullmatch(following.group(1)))


def _merge_topic(previous: str, topic: str, *, about: bool) -> tuple[str, str | None]:
    """The previous question with ``topic`` in place of its time, "about ..." part or subject,
    or added to it; and the subject put in, if the topic replaced it."""
    frame = previous.rstrip().rstrip("?.!").rstrip()
    if _TIME.fullmatch(topic):
        times = list(_TIME.finditer(frame))
        if times:
            last = times[-1]
            return f"{frame[:last.start()]}{topic}{frame[last.end():]}?", None
        return f"{frame} {topic}?", None
    if _FRAGMENT_START.match(topic) and not about:
        return f"{frame} {topic}?", None
    abouts = list(re.finditer(r"\babout\b", frame))
    if abouts:
        return f"{frame[:abouts[-1].end()]} {topic}?", None
    mentions = _mentions(topic)
    subject = _principal(_mentions(frame))
    if (subject is not None and len(mentions) == 1
            and mentions[0].text.removeprefix("the ") == topic.removeprefix("the ")):
        return f"{frame[:subject.start]}{topic}{frame[subject.end:]}?", topic
    if re.search(rf"\b(?:{'|'.join(SUBJECT_SPEECH_VERBS)})\b", frame, re.IGNORECASE):
        return f"{frame} about {topic}?", None
    return f"{frame}, and what about {topic}?", None


_PERSON_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|hers)\b", re.IGNORECASE)
_ORG_PRONOUN = re.compile(r"\b(?:they|them|their|theirs|its)\b", re.IGNORECASE)
_OBJECTS = frozenset({"him", "them"})
_POSSESSIVES = frozenset({"his", "hers", "its", "their", "theirs"})


def _substitute(question: str, earlier: Sequence[_Resolved], speaker: str | None
                ) -> tuple[str, str | None, bool]:
    """``question`` with its first pronoun (or role) of each kind standing for someone earlier
    in the conversation replaced; the person or organisation put in; and whether a pronoun was
    left because who it stands for is unclear."""
    put_in: list[tuple[int, str]] = []
    unclear = False
    for want in ("person", "org"):
        mentions = _mentions(question)
        found = _first_outside_reference(question, mentions, want)
        if found is None:
            continue
        start, end, possessive, anaphor = found
        if not anaphor and any(_can_stand_for(m, want) and (m.subject or m.end <= start)
                               for m in mentions):
            # "What did the Birmingham manager say about selling him?": not the manager, but
            # which of the people before is not clear
            unclear = True
            continue
        referent = _referent(earlier, want, speaker, question, anaphor)
        if referent is None:
            unclear = True
            continue
        words = referent + ("'s" if possessive else "")
        if _sentence_start(question, start):
            words = words[:1].upper() + words[1:]
        question = question[:start] + words + question[end:]
        put_in = [(at + (len(words) - (end - start)) * (at > start), text)
                  for at, text in put_in] + [(start, referent)]
    subject = min(put_in)[1] if put_in else None  # the first in the question
    return question, subject, unclear


def _can_stand_for(mention: _Mention, want: str, *, modifiers: bool = False) -> bool:
    """Whether a pronoun of this kind ("person" or "org") could mean the mention."""
    if mention.place == "possessed" or (mention.place == "modifier" and not modifiers):
        return False
    if want == "person":
        return mention.kind == "person" or (
            mention.kind == "name" and mention.subject and not mention.corporate)
    return mention.kind == "org" or (mention.kind in ("name", "event") and (
        mention.subject or mention.corporate or mention.place == "modifier"))


def _first_outside_reference(question: str, mentions: Sequence[_Mention], want: str
                             ) -> tuple[int, int, bool, bool] | None:
    """(start, end, possessive, is a role such as "the company") of the first pronoun or role
    of the kind that nothing earlier in the question can stand for; None if there is none."""
    found = []
    pattern = _PERSON_PRONOUN if want == "person" else _ORG_PRONOUN
    for match in pattern.finditer(question):
        word = match.group().casefold()
        obj = word in _OBJECTS or (word == "her" and not _possessive_her(question, match.end()))
        possessive = word in _POSSESSIVES or (word == "her" and not obj)
        found.append((match.start(), match.end(), possessive, obj, False))
    if want == "org":
        roles = [(m.start, m.end) for m in mentions if m.kind == "person"]
        for match in _ORG_ANAPHOR.finditer(question):
            if not any(a <= match.start() < b for a, b in roles):
                found.append((match.start(), match.end(), bool(match.group("poss")), False, True))
    who = _WHO_SUBJECT.match(question)
    for start, end, possessive, obj, anaphor in sorted(found):
        before = [m for m in mentions if m.end <= start
                  and _can_stand_for(m, want, modifiers=anaphor)]
        indefinite = any(word.casefold() in _INDEFINITES
                         for word in re.findall(r"[\w'’]+", question[:start]))
        if not obj and (before or indefinite or (who and want == "person")):
            return None  # "Does Musharaf think he ...": it is the name before it
        return start, end, possessive, anaphor
    return None


#: "Who heads ... his father": "who" is the subject, and "his" is theirs.
_WHO_SUBJECT = re.compile(
    rf"\W*(?:(?:and|but|so)\s+)?who\b(?!\s+(?:{'|'.join(AUXILIARIES)})\s+(?:he|she|they)\b)",
    re.IGNORECASE)


def _possessive_her(question: str, end: int) -> bool:
    following = re.match(r"\s+([\w'’-]+)", question[end:])
    return following is not None and following.group(1).casefold() not in STOPWORDS


def _referent(earlier: Sequence[_Resolved], want: str, speaker: str | None, question: str,
              anaphor: bool) -> str | None:
    """The most recent person or organisation of the conversation that ``question`` does not
    name itself (see the module docstring for the order)."""
    asked = set(terms(question))
    candidates = []  # per earlier question, newest first: its mentions, subject first
    for turn in reversed(earlier):
        mentions = _mentions(turn.core)
        mentions.sort(key=lambda m: (not m.subject, m.start))
        candidates.append([m for m in mentions if not set(terms(m.text)) <= asked])
    plain = ("", "possessor")
    tiers: list[Callable[[_Mention], bool] | None]
    if want == "person":
        tiers = [lambda m: m.kind == "person" and m.place != "modifier",
                 None,  # the speaker named in the last reply
                 lambda m: m.kind == "name" and not m.corporate and m.place in plain
                 and m.subject,
                 lambda m: m.kind == "name" and not m.corporate and m.place == "possessor",
                 lambda m: m.kind == "name" and not m.corporate and m.place == ""]
    else:
        # not a name that is merely mentioned ("offers for Steven Gerrard"): often a person;
        # "they" may be an event ("the Harbour Games"), "the club" may not
        named = ("name",) if anaphor else ("name", "event")
        tiers = [lambda m: (m.kind == "org" or m.corporate) and m.place in plain,
                 lambda m: m.kind in named and m.place in plain and m.subject,
                 lambda m: m.kind in named and m.place == "possessor"]
        if anaphor:  # "the company" after "the Fiat chief executive"
            tiers.append(lambda m: m.kind in ("name", "org") and m.place == "modifier")
    for tier in tiers:
        if tier is None:
            if speaker is not None and not set(terms(speaker)) <= asked:
                return speaker
            continue
        for mentions in candidates:
            for mention in mentions:
                if tier(mention):
                    return mention.text
    return None


_DEMONSTRATIVE = re.compile(r"\b(?:that|this|these|those)\b", re.IGNORECASE)
_BEFORE_POINTER = frozenset(AUXILIARIES | {
    "about", "of", "with", "for", "on", "to", "from", "in", "at", "after", "before", "by",
    "like", "than", "over", "against", "behind", "during", "and", "what", "why", "how", "who",
    "when", "where", "which", "does", "did", "explain", "mean", "cause", "caused", "said"})
_DEICTIC = frozenset("""year time week month season morning afternoon evening weekend summer
    winter spring autumn quarter century decade days""".split())


_NOUN_PHRASE = re.compile(r"\b(?:the|a|an|his|her|their|its|my|your|our)\s+\w", re.IGNORECASE)


def _points_back(question: str, core: str) -> bool:
    """Whether the question points at something earlier that no substitution can name:
    "that" / "this" as a pronoun, a bare "it" in a question naming nothing, or (once its
    pronouns are replaced, as ``core``) only question words ("Why?"), or at most two other
    words and no name ("Who came second?", "How many are there now?")."""
    for match in _DEMONSTRATIVE.finditer(question):
        before = re.search(r"([\w'’]+)\W*$", question[:match.start()])
        after = re.match(r"\s*([\w'’]+)?", question[match.end():])
        following = after.group(1).casefold() if after and after.group(1) else ""
        if match.group().casefold() == "this" and _POSSESSIVE.sub("", following) in _DEICTIC:
            continue  # "this year", "this season's"
        if before is None or before.group(1).casefold() in _BEFORE_POINTER or not following:
            return True
    it = re.search(r"\bit\b", question, re.IGNORECASE)
    if it and not _mentions(question) and not _NOUN_PHRASE.search(question[:it.start()]):
        return True  # "How much will it cost?", but not "... the first iPhone ... when it ..."
    return len(terms(core)) <= 2 and not _mentions(core)


_SPEAKER = re.compile(
    rf"(?:^|[\s,:;(])(?P<name>{_NAME})\s+(?:also\s+)?"
    rf"(?:{'|'.join(REPLY_SPEECH_VERBS)})\b"
    rf"|\bsaid\s+(?P<after>{_NAME})")


def _speaker(reply: str) -> str | None:
    """The first person a reply says spoke ("According to Hespress (...), Hammouchi said:")."""
    if _REFUSAL.search(reply):
        return None
    for match in _SPEAKER.finditer(reply):
        name = (match.group("name") or match.group("after")).strip()
        if name.casefold() not in _OPENERS and terms(name):
            return name
    return None
