"""Tests of the article readers: real corpus files, hand-written samples and broken inputs."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from articleqa.errors import ArticleReadError
from articleqa.readers import (
    Article,
    iter_article_files,
    parse_json_records,
    parse_overview,
    parse_plain,
    read_articles,
    read_text_file,
    resolve_weekday_date,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
OVERVIEW_PAGE = CORPUS / "overview" / "000_9f3ee334bca204eb.txt"
BBC = CORPUS / "bbc"
TODAY = dt.date(2026, 11, 29)


def read_one(path: Path, *, today: dt.date = TODAY) -> Article:
    articles, errors = read_articles(path, today=today)
    assert errors == []
    assert len(articles) == 1
    return articles[0]


def overview_page(*, date_line: str = "Tuesday, March 3", footer: bool = True) -> str:
    """A small Overview page in our own words."""
    lines = [
        "Overview Logo",
        "Article Main Image",
        "",
        "Harbour town opens a new ferry pier",
        "",
        "Coastal Daily",
        "",
        "Portugal",
        "",
        date_line,
        "",
        "",
        "Alternative Takes",
        "",
        "Local Transport",
        "",
        "",
        "The pier took two years to build and can take three boats at once.",
        "",
        "  The mayor said the timetable would double by summer.  ",
        "",
    ]
    if footer:
        lines += ["Get the full experience in the app", "", "A slogan for the app.", "",
                  "Apple App Store Badge"]  # fmt: skip
    return "\n".join(lines)


def assert_error(
    exc: pytest.ExceptionInfo[ArticleReadError], path: Path | str, *words: str
) -> None:
    """The message names the file and says what is wrong."""
    message = str(exc.value)
    assert str(path) in message
    assert exc.value.path.startswith(str(path))
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"


# ------------------------------------------------------------------------------- Overview


def test_overview_page_fields() -> None:
    article = read_one(OVERVIEW_PAGE)
    assert article.title.startswith("Hammouchi: Morocco links security")
    assert article.source == "Hespress"
    assert article.country == "Morocco"
    assert article.published == dt.date(2025, 11, 24)
    assert article.path == str(OVERVIEW_PAGE)
    assert article.body.startswith("Abdellatif Hammouchi")
    paragraphs = article.body.split("\n\n")
    assert "women in police work" in paragraphs[-1]
    assert all(p == p.strip() and p for p in paragraphs)


def test_overview_page_drops_app_boilerplate() -> None:
    article = read_one(OVERVIEW_PAGE)
    for boilerplate in (
        "Overview Logo",
        "Article Main Image",
        "Alternative Takes",
        "Event Coverage and Hospitality",
        "Get the full experience",
        "Apple App Store Badge",
        "500 articles a day",
        "Hespress",
        "Monday, November 24",
    ):
        assert boilerplate not in article.body


def test_overview_hand_made_page() -> None:
    article = parse_overview(overview_page(), "page.txt", dt.date(2026, 11, 29))
    assert article.title == "Harbour town opens a new ferry pier"
    assert article.source == "Coastal Daily"
    assert article.country == "Portugal"
    assert article.published == dt.date(2026, 3, 3)
    assert article.body == (
        "The pier took two years to build and can take three boats at once.\n\n"
        "The mayor said the timetable would double by summer."
    )
    assert article.path == "page.txt"


def test_overview_without_footer_or_with_only_the_badge() -> None:
    expected = parse_overview(overview_page(), "a.txt", TODAY).body
    no_footer = parse_overview(overview_page(footer=False), "a.txt", TODAY)
    assert no_footer.body == expected
    badge_only = overview_page(footer=False) + "\nApple App Store Badge\n"
    assert parse_overview(badge_only, "a.txt", TODAY).body == expected


@pytest.mark.parametrize(
    ("month", "day", "weekday", "today", "expected"),
    [
        # The corpus page, ingested a year later: 24 November 2026 is a Tuesday.
        (11, 24, 0, dt.date(2026, 11, 29), dt.date(2025, 11, 24)),
        # The day itself counts.
        (11, 24, 0, dt.date(2025, 11, 24), dt.date(2025, 11, 24)),
        # Today is before the date in the current year: a past year, even if this year fits.
        (12, 25, 4, dt.date(2026, 6, 1), dt.date(2020, 12, 25)),
        (12, 25, 4, dt.date(2026, 12, 25), dt.date(2026, 12, 25)),
        # A leap day on a Thursday: 2024-02-29.
        (2, 29, 3, dt.date(2026, 1, 10), dt.date(2024, 2, 29)),
    ],
)
def test_resolve_weekday_date(
    month: int, day: int, weekday: int, today: dt.date, expected: dt.date
) -> None:
    assert resolve_weekday_date(month, day, weekday, today) == expected
    assert expected.weekday() == weekday


def test_resolve_weekday_date_falls_back_to_the_latest_year_when_no_weekday_fits() -> None:
    # 2026-11-24 is a Tuesday, 2025-11-24 a Monday: with a one-year window no Sunday fits.
    assert resolve_weekday_date(11, 24, 6, TODAY, search_years=1) == dt.date(2026, 11, 24)
    assert resolve_weekday_date(2, 29, 0, dt.date(2026, 5, 1), search_years=0) == dt.date(
        2024, 2, 29
    )


def test_resolve_weekday_date_rejects_impossible_days() -> None:
    with pytest.raises(ValueError, match="month=11, day=31"):
        resolve_weekday_date(11, 31, 0, TODAY)


def test_overview_date_in_a_page_is_resolved_against_today() -> None:
    page = overview_page(date_line="Friday, December 25")
    assert parse_overview(page, "a.txt", dt.date(2026, 6, 1)).published == dt.date(2020, 12, 25)
    assert parse_overview(page, "a.txt", dt.date(2027, 1, 1)).published == dt.date(2026, 12, 25)


@pytest.mark.parametrize(
    ("page", "words"),
    [
        (overview_page(date_line="Someday soon"), ["date line", "Someday soon"]),
        (overview_page(date_line="Monday, November 31"), ["date line", "not a real day"]),
        (overview_page(date_line="Funday, November 3"), ["unknown weekday or month"]),
        (
            "Overview Logo\nArticle Main Image\n\nOnly a headline\n\nSome Outlet\n",
            ["country", "date"],
        ),
        ("A headline\n\nA body.\n", ["not an Overview page", "Overview Logo"]),
        (
            overview_page().split("The pier")[0] + "Get the full experience in the app\n",
            ["no article paragraphs"],
        ),
    ],
)
def test_overview_with_the_wrong_shape_names_what_is_missing(page: str, words: list[str]) -> None:
    with pytest.raises(ArticleReadError) as exc:
        parse_overview(page, "odd.txt", TODAY)
    assert_error(exc, "odd.txt", *words)


# ------------------------------------------------------------------------------- BBC plain text


def test_bbc_headline_and_body_split() -> None:
    article = read_one(BBC / "business" / "001.txt")
    assert article.title == "Ad sales boost Time Warner profit"
    assert article.body.startswith("Quarterly profits at US media giant TimeWarner jumped 76%")
    assert "\n\n\n" not in article.body
    assert article.body.count("\n\n") == 4  # five paragraphs
    assert article.source is None and article.published is None
    assert article.path == str(BBC / "business" / "001.txt")


def test_bbc_latin1_file_is_decoded() -> None:
    path = BBC / "sport" / "199.txt"
    assert b"\xa315.8m" in path.read_bytes()  # Latin-1 pound sign, not valid UTF-8
    article = read_one(path)
    assert article.title == "Chelsea sack Mutu"
    assert "£15.8m" in article.body
    assert "\ufffd" not in article.body


def test_bbc_list_items_on_consecutive_lines_become_paragraphs() -> None:
    # business/020.txt ends with a bulleted list, one item per line with no blank line between.
    article = read_one(BBC / "business" / "020.txt")
    paragraphs = article.body.split("\n\n")
    bullets = [p for p in paragraphs if p.lstrip().startswith("- ")]
    assert len(bullets) == 3
    assert all("\n" not in p and p == p.rstrip() for p in paragraphs)


def test_every_bbc_file_reads_and_exact_duplicates_share_an_id() -> None:
    articles = [read_one(path) for path, reason in iter_article_files([BBC]) if reason is None]
    assert len(articles) == 2225
    assert all(a.title and a.body and "\ufffd" not in a.body for a in articles)
    by_path = {Path(a.path).relative_to(BBC).as_posix(): a for a in articles}
    # The corpus holds some articles twice under different numbers.
    assert by_path["business/007.txt"].id == by_path["business/253.txt"].id
    assert len({a.id for a in articles}) < len(articles)


def test_plain_text_with_headline_only_is_an_error() -> None:
    with pytest.raises(ArticleReadError) as exc:
        parse_plain("Just a headline\n\n   \n", "lonely.txt")
    assert_error(exc, "lonely.txt", "headline", "no body text")


def test_plain_text_keeps_paragraph_text_and_drops_trailing_spaces() -> None:
    text = "\n  A headline  \n\nFirst  part.   \n\n\n\nSecond part.\nThird.\n"
    article = parse_plain(text, "x.txt")
    assert article.title == "A headline"
    assert article.body == "First  part.\n\nSecond part.\n\nThird."


# ------------------------------------------------------------------------------- ids


def test_same_content_under_two_names_has_the_same_id(tmp_path: Path) -> None:
    first = tmp_path / "one.txt"
    second = tmp_path / "sub" / "two"
    second.parent.mkdir()
    shutil.copy(BBC / "tech" / "001.txt", first)
    shutil.copy(BBC / "tech" / "001.txt", second)
    a, b = read_one(first), read_one(second)
    assert a.id == b.id
    assert a.path != b.path


def test_reflowed_copy_has_the_same_id(tmp_path: Path) -> None:
    original = read_one(BBC / "politics" / "010.txt")
    words = original.body.split()
    reflowed = "\n".join(" ".join(words[i : i + 7]) for i in range(0, len(words), 7))
    copy = tmp_path / "reflowed.txt"
    copy.write_text(f"   {original.title}\r\n\r\n{reflowed}\r\n", encoding="utf-8")
    article = read_one(copy)
    assert article.body != original.body
    assert article.id == original.id


# ------------------------------------------------------------------------------- JSON


def test_json_object_with_aliases(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    record = {
        "headline": "Library extends its opening hours",
        "content": "The town library will stay open until nine.\n\nVolunteers will staff the desk.",
        "outlet": "Valley Herald",
        "country": "Ireland",
        "publish_date": "2024-02-29",
        "url": "https://example.org/library",
        "authors": "A. Writer, B. Reporter",
        "ignored": 3,
    }
    path.write_text(json.dumps(record), encoding="utf-8")
    article = read_one(path)
    assert article == Article(
        id=article.id,
        title="Library extends its opening hours",
        body="The town library will stay open until nine.\n\nVolunteers will staff the desk.",
        source="Valley Herald",
        country="Ireland",
        published=dt.date(2024, 2, 29),
        url="https://example.org/library",
        path=str(path),
        authors=("A. Writer", "B. Reporter"),
    )


def test_json_array_with_source_object_and_datetimes(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    records = [
        {
            "title": "Bridge repairs finish early",
            "body": "Crews completed the work a week ahead of plan.",
            "source": {"name": "River Post", "id": "rp"},
            "published_at": "2023-07-01T23:30:00-05:00",
            "authors": ["C. Columnist"],
        },
        {
            "title": "Market adds a night stall",
            "text": "Traders voted to open on Friday evenings.",
            "date": "2023-07-02T08:00:00Z",
        },
    ]
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    articles, errors = read_articles(path)
    assert errors == []
    assert [a.path for a in articles] == [f"{path}#1", f"{path}#2"]
    assert articles[0].source == "River Post"
    assert articles[0].published == dt.date(2023, 7, 1)  # the date as the outlet wrote it
    assert articles[0].authors == ("C. Columnist",)
    assert articles[1].published == dt.date(2023, 7, 2)
    assert articles[1].source is None and articles[1].authors == ()


def test_json_lines_with_blank_lines_and_a_title_from_the_text(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    long_sentence = "A " + "very " * 40 + "long opening sentence."
    lines = [
        json.dumps({"body": "Rain is due all weekend. Take a coat.", "published": "2022-10-05"}),
        "",
        json.dumps({"text": long_sentence + " Second sentence."}),
        "   ",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    articles, errors = read_articles(path)
    assert errors == []
    assert [a.path for a in articles] == [f"{path}#1", f"{path}#2"]
    assert articles[0].title == "Rain is due all weekend."
    assert articles[0].published == dt.date(2022, 10, 5)
    assert len(articles[1].title) <= 121
    assert articles[1].title.endswith("…")


def test_bad_json_lines_records_are_reported_and_good_ones_returned(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    lines = [
        json.dumps({"title": "Good one", "text": "A fine record."}),
        json.dumps({"title": "No text here"}),
        "",
        '{"title": "Broken", "text": ',
        json.dumps({"title": "Bad date", "text": "Body.", "date": "last Tuesday"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"title": "Good two", "text": "Another fine record."}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    warnings: list[tuple[str, str]] = []
    articles, errors = read_articles(path, warnings=warnings)
    # A date that cannot be read costs the date, never the article.
    assert [a.title for a in articles] == ["Good one", "Bad date", "Good two"]
    assert [a.path for a in articles] == [f"{path}#1", f"{path}#4", f"{path}#6"]
    assert articles[1].published is None
    assert [e.path for e in errors] == [f"{path}#2", f"{path}#3", f"{path}#5"]
    messages = [str(e) for e in errors]
    assert "record 2 has no 'text' or 'body' field" in messages[0]
    assert "record 3 (line 4) is not valid JSON" in messages[1]
    assert "record 5 is an array, not a JSON object" in messages[2]
    assert all(str(path) in m for m in messages)
    [(where, warning)] = warnings
    assert where == f"{path}#4"
    assert "record 4" in warning and "last Tuesday" in warning and "stored undated" in warning


def test_single_json_object_without_text_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "empty-record.json"
    path.write_text('{"title": "Nothing else"}', encoding="utf-8")
    articles, errors = read_articles(path)
    assert articles == []
    assert len(errors) == 1
    assert errors[0].path == str(path)
    assert str(errors[0]) == f"{path}: the record has no 'text' or 'body' field"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        # A missing comma between two objects of an array.
        ('[\n  {"title": "x",\n   "text": "y"\n  }\n  {"title": "z"}\n]', ["at line 5"]),
        ("[]", ["array is empty"]),
        ("42", ["found a number"]),
    ],
)
def test_invalid_json_file_raises(tmp_path: Path, content: str, words: list[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ArticleReadError) as exc:
        read_articles(path)
    assert_error(exc, path, *words)


def test_json_lines_file_of_broken_lines_raises(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"title": "a", \n"text": "b"\n', encoding="utf-8")
    with pytest.raises(ArticleReadError) as exc:
        read_articles(path)
    assert_error(exc, path, "invalid JSON at line")


def test_json_lines_content_is_recognised_in_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "actually-lines.json"
    path.write_text('{"text": "First."}\n{"text": "Second."}\n', encoding="utf-8")
    articles, errors = read_articles(path)
    assert errors == []
    assert [a.path for a in articles] == [f"{path}#1", f"{path}#2"]


def test_one_line_json_lines_file_numbers_its_record(tmp_path: Path) -> None:
    path = tmp_path / "single.jsonl"
    path.write_text('{"text": "Only one."}\n', encoding="utf-8")
    assert read_one(path).path == f"{path}#1"


def test_parse_json_records_works_on_text() -> None:
    articles, errors = parse_json_records('{"title": "T", "text": "Body text."}', "mem.json")
    assert errors == [] and articles[0].path == "mem.json"


# ------------------------------------------------------------------------------- bytes


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ArticleReadError) as exc:
        read_articles(path)
    assert_error(exc, path, "the file is empty")


@pytest.mark.parametrize(
    "content", [b"  \n\t\r\n  ", "\ufeff \n".encode("utf-8"), " \n".encode("utf-16")]
)
def test_whitespace_only_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleReadError) as exc:
        read_articles(path)
    assert_error(exc, path, "the file is empty")


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "PNG image"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "zip archive"),
        (b"some text \x00\x13\x9c\x00\xff\x02 more", "NUL bytes"),
        (b"text with a \x01\x02 control run", "control characters"),
    ],
)
def test_binary_file(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "picture.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleReadError) as exc:
        read_text_file(path)
    assert_error(exc, path, kind, "binary file")


@pytest.mark.parametrize(
    "content",
    [
        "A headline\n\nSome body text.\n".encode("utf-16-le"),
        "A headline\n\nSome body text.\n".encode("utf-16-be"),
        "A headline\n\nSome body text.\n".encode("utf-32-le"),
        b"A headline\n\nJunk \x81\x8d\x90 bytes.\n",
        "A headline\n\nA C1 \x85 control.\n".encode(),
    ],
)
def test_unknown_encoding(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleReadError) as exc:
        read_articles(path)
    assert_error(exc, path, "encoding is not recognised", "convert the file to UTF-8")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32", "utf-8", "cp1252"])
def test_encodings_that_are_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "café.txt"
    text = "Prices rise\r\n\r\nA coffee costs £3 — “too much”, says Zoë.\r\n"
    path.write_bytes(text.encode(encoding))
    text = read_text_file(path)
    assert text == "Prices rise\n\nA coffee costs £3 — “too much”, says Zoë.\n"


def test_bom_that_lies_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "lies.txt"
    path.write_bytes(b"\xff\xfeA\x00\x00\xd8")  # UTF-16 mark, then an unpaired surrogate
    with pytest.raises(ArticleReadError) as exc:
        read_text_file(path)
    assert_error(exc, path, "byte-order mark", "UTF-8")


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(ArticleReadError) as exc:
        read_text_file(tmp_path / "missing.txt")
    assert_error(exc, tmp_path / "missing.txt", "cannot read the file")
    with pytest.raises(ArticleReadError) as exc:
        read_text_file(tmp_path)
    assert_error(exc, tmp_path, "is a folder")


# ------------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize("name", ["scan.png", "report.PDF", "letter.docx", "page.html"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Headline\n\nBody.\n", encoding="utf-8")
    with pytest.raises(ArticleReadError) as exc:
        read_articles(path)
    assert_error(exc, path, "not supported", name.rsplit(".", 1)[1].lower(), ".txt", ".jsonl")


@pytest.mark.parametrize("name", ["page.txt", "page.md", "page.TEXT", "page"])
def test_text_files_are_sniffed_for_overview_pages(tmp_path: Path, name: str) -> None:
    overview = tmp_path / name
    overview.write_text("\n\n" + overview_page(), encoding="utf-8")
    assert read_one(overview).source == "Coastal Daily"
    plain = tmp_path / f"plain-{name}"
    plain.write_text("Overview of the harbour\n\nBoats came in late.\n", encoding="utf-8")
    article = read_one(plain)
    assert (article.title, article.source) == ("Overview of the harbour", None)


def test_today_defaults_to_the_current_date(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text(overview_page(), encoding="utf-8")
    published = read_one(path).published
    assert published is not None and published <= dt.date.today()


# ------------------------------------------------------------------------------- folders


def test_folder_walk(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".git").mkdir()
    for name in ["z.txt", "README.TXT", "License.md", "COPYING", ".hidden.txt", "b/2.json",
                 "b/1.txt", "a/readme.md", "a/x.txt", ".git/config"]:  # fmt: skip
        (root / name).write_text("Headline\n\nBody.\n", encoding="utf-8")
    explicit = root / "README.TXT"
    missing = tmp_path / "nowhere"
    found = list(iter_article_files([root, str(missing), explicit]))
    assert found == [
        (root / "a" / "x.txt", None),
        (root / "b" / "1.txt", None),
        (root / "b" / "2.json", None),
        (root / "z.txt", None),
        (missing, "no such file or folder"),
        (explicit, None),
    ]


def test_bbc_folder_skips_its_readme() -> None:
    found = [path for path, _ in iter_article_files([BBC])]
    assert BBC / "README.TXT" not in found
    assert found[0] == BBC / "business" / "001.txt"
    assert found == sorted(found, key=lambda p: p.relative_to(BBC).parts)


@pytest.mark.parametrize(("written", "day"), [
    ("2023/01/24", dt.date(2023, 1, 24)),
    ("Tue, 24 Jan 2023 10:00:00 GMT", dt.date(2023, 1, 24)),
    ("January 24, 2023", dt.date(2023, 1, 24)),
    ("24 January 2023 23:30 -0500", dt.date(2023, 1, 24)),  # the day where it was written
])
def test_json_dates_as_feeds_write_them(written: str, day: dt.date) -> None:
    record = json.dumps({"title": "T", "text": "Body text.", "published": written})
    articles, errors = parse_json_records(record, "feed.json")
    assert errors == [] and articles[0].published == day


@pytest.mark.parametrize("written", ["January 2023", "soon", "2023"])
def test_json_dates_without_a_day_cost_the_date_not_the_article(written: str) -> None:
    record = json.dumps({"title": "T", "text": "Body text.", "published": written})
    warnings: list[tuple[str, str]] = []
    articles, errors = parse_json_records(record, "feed.json", warnings=warnings)
    assert errors == [] and [a.published for a in articles] == [None]
    [(where, message)] = warnings
    assert where == "feed.json" and "unreadable date" in message and written in message
