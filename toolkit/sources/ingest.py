"""`source add`: a page saved by a browser becomes a source folder (archived text + source block).

Why this exists: a new source used to cost a person an hour before the first fact was
written (copy the text, find where the body starts and ends, find the date and say where it
came from). Here the page is read offline, its encoding detected, its main text and metadata
extracted by trafilatura (a kept news-extraction library), and the text archived unchanged
with its SHA-256. Nothing is fetched: ``--url`` is only recorded.

The archived text is the headline, the byline line under it (when the page has one) and the
main text, each as the page shows it; the body runs from the headline to the last words, so
the byline ("来源：…") is quotable evidence for the publisher.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import lxml.html
import trafilatura
from pypinyin import lazy_pinyin

from toolkit.config import Settings
from toolkit.errors import LoadError, UsageError
from toolkit.schema.model import Model, load_model
from toolkit.sources.dates import DateProblem, parse_date
from toolkit.sources.loader import FACTS_FILE, body_bounds, load_corpus
from toolkit.yamlfile import read_capped

#: the largest saved page read (a saved news page is well under 1 MiB; this stops a wrong file)
MAX_PAGE_BYTES = 16 * 1024 * 1024
#: fewer letters than this in the extracted text means the page holds no article
MIN_ARTICLE_CHARS = 40
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
#: labels a page declares that decode the same bytes as their superset: GB2312 and GBK pages
#: often hold characters outside the declared set, and GB18030 reads every GBK byte the same way
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs", "big5-hkscs": "big5hkscs"}
_DATE_IN_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_BYLINE_HINT = re.compile(r"来源|作者|记者|发布时间|编辑|\d{4}\s*[-/.年]\s*\d{1,2}")
_NAME = r"[\u3400-\u4dbf\u4e00-\u9fff·\U00020000-\U0002FFFF]"
_AUTHOR = re.compile(rf"(?:作者|记者|文)\s*[：:|]\s*({_NAME}{{2,12}}(?:[ 、,，]{_NAME}{{2,4}})*)")
_DATE_META = (
    ("property", "article:published_time"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("itemprop", "datePublished"),
    ("name", "date"),
    ("name", "dc.date"),
)


@dataclass(frozen=True)
class Page:
    """What was read from a saved page: its text as archived and the metadata found."""

    encoding: str
    encoding_how: str
    title: str
    byline: str | None
    main_text: str
    publisher: str | None
    authors: tuple[str, ...]
    date: str | None
    date_where: str | None

    @property
    def archived_text(self) -> str:
        """Headline, byline and main text, one per line block, as the page shows them."""
        parts = [self.title, *([self.byline] if self.byline else []), self.main_text]
        return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class AddedSource:
    """The folder written by :func:`add_source`, for the command to report."""

    source_id: str
    folder: Path
    text_file: str
    sha256: str
    page: Page
    publisher_id: str


def decode_page(raw: bytes) -> tuple[str, str, str]:
    """(text, encoding, how it was found): BOM, then the page's own declaration, then detection.

    A declaration is believed only when the bytes decode under it without error; otherwise, and
    without one, UTF-8 is tried strictly and charset-normalizer decides (GB18030/GBK, Big5...).
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(enc), enc.removesuffix("-sig"), "byte order mark"
    m = _META_CHARSET.search(raw[:8192])
    if m:
        declared = m.group(1).decode("ascii").lower()
        enc = _SUPERSET.get(declared, declared)
        try:
            return raw.decode(enc), enc, f"declared by the page ({declared})"
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return raw.decode("utf-8"), "utf-8", "valid UTF-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(raw).best()
    if best is None or best.encoding is None:
        raise LoadError("cannot tell the encoding of the page", hint="save the page again as UTF-8")
    enc = _SUPERSET.get(best.encoding.replace("_", "-").lower(), best.encoding.lower())
    try:
        return raw.decode(enc), enc, "detected by charset-normalizer"
    except (LookupError, UnicodeDecodeError):
        return str(best), best.encoding, "detected by charset-normalizer"


def _looks_like_html(text: str) -> bool:
    head = text[:4096].lower()
    return any(tag in head for tag in ("<html", "<body", "<head", "<!doctype html", "<p>", "<div"))


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _byline(tree: lxml.html.HtmlElement, title: str) -> str | None:
    """The short line under the headline that carries the date, source or author, as shown."""
    heads = [h for h in tree.iter("h1", "h2") if _clean(h.text_content()) and _clean(h.text_content()) in title]
    if not heads:
        return None
    for seen, el in enumerate(heads[0].itersiblings(), start=1):
        text = _clean(el.text_content())
        if text and len(text) <= 160 and _BYLINE_HINT.search(text):
            return text
        if seen >= 3:
            break
    return None


def _meta_date(tree: lxml.html.HtmlElement) -> tuple[str, str] | None:
    for attr, name in _DATE_META:
        for el in tree.iter("meta"):
            if (el.get(attr) or "").lower() == name.lower() and el.get("content"):
                m = _DATE_IN_TEXT.search(el.get("content", "")) or re.search(
                    r"(\d{4})-(\d{2})-(\d{2})", el.get("content", "")
                )
                if m:
                    return _ymd(m), f'<meta {attr}="{name}" content="{el.get("content")}">'
    return None


def _ymd(m: re.Match[str]) -> str:
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def _valid(date: str | None) -> str | None:
    if not date:
        return None
    try:
        return parse_date(date).lexical
    except DateProblem:
        return None


def _author_names(raw: str | None, byline: str | None) -> tuple[str, ...]:
    names: list[str] = []
    for text in (raw, byline):
        if not text:
            continue
        for m in _AUTHOR.finditer(text):
            names.extend(n for n in re.split(r"[ 、,，]", m.group(1)) if n)
        if names:
            break
    if not names and raw:
        names = [n for n in re.split(r"[;；,，、 ]+", re.sub(r"^(作者|记者)[：:]", "", raw)) if n]
    return tuple(dict.fromkeys(names))


def read_page(path: Path) -> Page:
    """Read a saved page (HTML or plain text) offline; raise LoadError when it holds no article."""
    raw = read_capped(path, MAX_PAGE_BYTES, what="saved page")
    text, encoding, how = decode_page(raw)
    if not _looks_like_html(text):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        body = "\n".join(lines[1:])
        if len(re.findall(r"\w", body)) < MIN_ARTICLE_CHARS:
            raise LoadError("the file holds no article text", file=path, hint="save the article page itself")
        m = _DATE_IN_TEXT.search("\n".join(lines[:3]))
        date = _valid(_ymd(m)) if m else None
        where = f"the first lines of the text: {m.group(0)!r}" if m and date else None
        return Page(encoding, how, lines[0], None, body, None, (), date, where)
    doc = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    main = (doc.text if doc is not None else "") or ""
    if len(re.findall(r"\w", main)) < MIN_ARTICLE_CHARS:
        raise LoadError(
            "no article text found in the page (only navigation, ads or other page furniture)",
            file=path,
            hint="save the article page itself (File > Save Page As), not an index, login or error page",
        )
    tree = lxml.html.fromstring(text)
    title = _clean(doc.title or "") or _clean(main.splitlines()[0])
    byline = _byline(tree, title)
    date, where = None, None
    found = _meta_date(tree)
    if found:
        date, where = _valid(found[0]), f"the page's {found[1]}"
    if date is None and byline:
        m = _DATE_IN_TEXT.search(byline)
        if m and _valid(_ymd(m)):
            date, where = _ymd(m), f"the byline under the headline: {byline!r}"
    if date is None and _valid(doc.date):
        date, where = _valid(doc.date), "trafilatura's date heuristics (htmldate); the page states it nowhere plainly"
    return Page(
        encoding=encoding,
        encoding_how=how,
        title=title,
        byline=byline,
        main_text="\n".join(ln.strip() for ln in main.splitlines() if ln.strip()),
        publisher=_clean(doc.sitename or "") or None,
        authors=_author_names(doc.author, byline),
        date=date,
        date_where=where,
    )


@functools.cache
def _phrase_readings_loaded() -> bool:
    """Load CC-CEDICT's phrase readings into pypinyin once, on the first name read.

    pypinyin's own phrase list reads 长三角 and 长宁区 as "zhang-…" (长 as in 长大); CC-CEDICT
    knows the place names. Loading takes 2-3 s, so it is imported here, on first use by
    `source add` / `draft`, not when any other command starts.
    """
    from pypinyin_dict.phrase_pinyin_data import cc_cedict

    cc_cedict.load()
    return True


def reading(text: str) -> list[str]:
    """The pinyin syllables of ``text``, phrases read as CC-CEDICT reads them (长三角 → chang san jiao)."""
    _phrase_readings_loaded()
    return lazy_pinyin(text)


def pinyin_slug(text: str, max_syllables: int = 8) -> str:
    """An ASCII id from Chinese text (pypinyin); long names keep their first syllables and a hash."""
    parts = [re.sub(r"[^a-z0-9]", "", p.lower()) for p in reading(text)]
    parts = [p for p in parts if p]
    if not parts:
        return "x" + hashlib.sha256(text.encode()).hexdigest()[:8]
    if len(parts) > max_syllables:
        parts = [*parts[:max_syllables], hashlib.sha256(text.encode()).hexdigest()[:6]]
    return "-".join(parts)


def person_slug(name: str) -> str:
    """A person's id as the first source writes them: surname, then given name (lin-zhiyuan)."""
    parts = [p for p in reading(name) if p.isascii() and p.isalpha()]
    if len(parts) < 2:
        return pinyin_slug(name)
    return f"{parts[0]}-{''.join(parts[1:])}"


def person_en_name(name: str) -> str:
    """A person's English label in pinyin (Lin Zhiyuan), or a TODO when the name has no reading."""
    parts = [p for p in reading(name) if p.isascii() and p.isalpha()]
    if len(parts) < 2:
        return "TODO " + name
    return f"{parts[0].title()} {''.join(parts[1:]).title()}"


def _yq(text: str) -> str:
    """A YAML single-quoted scalar (the only escape is a doubled quote)."""
    return "'" + text.replace("'", "''") + "'"


def source_block(
    source_id: str,
    text_file: str,
    page: Page,
    publisher_id: str,
    body: tuple[str, str],
    url: str | None,
    terms: frozenset[str] = frozenset(),
) -> str:
    """The ``source:`` block of facts.yaml as the first source writes it, with comments to check."""
    date = page.date
    lines = ["source:", f"  id: {source_id}", f"  text: {text_file}", "  label:", f"    zh: {_yq(page.title)}"]
    lines.append("    # TODO: translate the title")
    lines.append(f"    en: {_yq('TODO translate: ' + page.title)}")
    lines.append(f"  publisher: {publisher_id}")
    lines.append(f"  rightsHolder: {publisher_id}")
    lines.append("  language: zh")
    if date:
        lines.append(f'  datePublished: "{date}"')
        lines.append("  datingNote:")
        lines.append(f"    zh: {_yq('发布日期取自' + _where_zh(page))}")
        lines.append(f"    en: {_yq('The publication date was found in ' + (page.date_where or 'the page'))}")
    else:
        lines.append("  # TODO: the page states no publication date; write it and say how you dated it")
        lines.append('  datePublished: "TODO"')
        lines.append("  datingNote: {zh: TODO, en: TODO}")
    if page.authors and "author" in terms:
        lines.append(f"  # the byline's author(s): {'、'.join(page.authors)}; `draft` proposes them as people")
        lines.append(f"  author: {_authors_yaml(page.authors)}")
    elif page.authors:
        lines.append(f"  # authors (byline): {'、'.join(page.authors)} (the model has no article-author term yet)")
    if url and "url" in terms:
        lines.append("  # recorded, never fetched")
        lines.append(f"  url: {_yq(url)}")
    elif url:
        lines.append(f"  # url (recorded, not fetched; the model has no url term yet): {url}")
    lines.append("  body:")
    lines.append("    # From the headline to the last words of the main text, as extracted by trafilatura.")
    lines.append(f"    start: {_yq(body[0])}")
    lines.append(f"    end: {_yq(body[1])}")
    return "\n".join(lines) + "\n"


def _authors_yaml(names: tuple[str, ...]) -> str:
    ids = [person_slug(n) for n in names]
    return ids[0] if len(ids) == 1 else "[" + ", ".join(ids) + "]"


def _where_zh(page: Page) -> str:
    if page.date_where and page.date_where.startswith("the page's <meta"):
        return "页面的元数据标签" + page.date_where.removeprefix("the page's ")
    if page.date_where and page.date_where.startswith("the byline"):
        return f"标题下的署名行：“{page.byline}”"
    return "trafilatura 的日期推断（页面未明示）"


def body_ends(text: str) -> tuple[str, str]:
    """First and last words of the text that the loader finds at its very start and end."""
    first = text.strip().splitlines()[0].strip()
    start = first[:24]
    lines = text.strip().splitlines()
    last = lines[-1].strip()
    for width in range(12, len(last) + 1, 4):
        end = last[-width:].strip()
        bounds = body_bounds(text, start, end)
        if bounds is not None and bounds[1] == len(text.rstrip()):
            return start, end
    return start, last


def _known_publisher(settings: Settings, model: Model, name: str | None) -> str | None:
    """The id of a corpus entity labelled with the page's site name, so sources share one publisher."""
    if not name or not settings.sources_dir.is_dir() or not any(settings.sources_dir.glob(f"*/{FACTS_FILE}")):
        return None  # the first source of a project: no corpus yet
    corpus, _problems = load_corpus(settings, model)
    ids = sorted(e.id for e in corpus.entities.values() if name in (e.label("zh"), e.label("en")))
    return ids[0] if len(ids) == 1 else None


def add_source(
    settings: Settings, page_path: Path, *, url: str | None = None, source_id: str | None = None
) -> AddedSource:
    """Archive a saved page as a new source folder; refuse to touch an existing source (exit 2)."""
    page = read_page(page_path)
    text = page.archived_text
    data = text.encode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    if source_id is None:
        who = pinyin_slug(page.publisher or "source", 4)
        source_id = f"{who}-{page.date or 'undated'}-{sha[:8]}"
    if not _SLUG.match(source_id):
        raise UsageError(f"--id {source_id!r} is not an id", hint="use lower-case letters, digits and single hyphens")
    folder = settings.sources_dir / source_id
    if folder.exists() or folder.is_symlink():
        raise UsageError(
            f"source {source_id!r} exists already ({folder}); nothing was written",
            hint="give another --id, or remove the folder first",
        )
    model = load_model(settings.schema_dir)
    # the terms the source block may use: url and author came with issue 13's model
    terms = frozenset(model.classes["SourceArticle"].constraints) if "SourceArticle" in model.classes else frozenset()
    publisher_id = _known_publisher(settings, model, page.publisher) or pinyin_slug(page.publisher or "publisher", 6)
    body = body_ends(text)
    text_file = f"{sha[:16]}.txt"
    folder.mkdir(parents=True)
    (folder / text_file).write_bytes(data)
    head = (
        "# Written by `policy-toolkit source add`; check the TODO lines, then run `policy-toolkit draft "
        f"{source_id}`\n# and merge its proposals into entities: below.\n"
        f"# Page: {page_path.name}, encoding {page.encoding} ({page.encoding_how}); text SHA-256 {sha}\n"
    )
    facts = head + source_block(source_id, text_file, page, publisher_id, body, url, terms) + "\nentities: []\n"
    (folder / FACTS_FILE).write_text(facts, encoding="utf-8")
    return AddedSource(source_id, folder, text_file, sha, page, publisher_id)
