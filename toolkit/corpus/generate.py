"""A seeded synthetic corpus that looks like the real one, sized by triple count.

Every source folder gets an archived text (page furniture, a headline, the body, the
platform's statement, a recommendation list) and a ``facts.yaml`` written in the block style
people write by hand. The facts use the classes, links, date precisions (day, month, year and
relative dates such as ``今年9月1日`` or ``明年``), comments, several types per entity and the
cross-source references of the real article; every evidence quote is a passage of the
generated body. Source ``0`` holds shared entities (media, provinces, regions, a technology
scheme, legislatures) that the others reference; a few entities point at the previous
source's (chains stay short, as in real newsrooms).

Known defects can be injected at a rate, deterministically per seed:

* ``missing-label``       an entity without its English label (facts schema);
* ``wrong-date-type``     a date that is not a date (facts schema or date check);
* ``quote-not-in-source`` an evidence quote that the text does not contain (evidence);
* ``dangling-reference``  a reference to an id no source defines (references);
* ``period-reversed``     a period that ends before it starts (SHACL SPARQL constraint);
* ``wrong-class``         a link to an entity of the wrong class (SHACL sh:class).

The same seed, size and defect settings always give the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.progress import progress

DEFECTS = (
    "missing-label",
    "wrong-date-type",
    "quote-not-in-source",
    "dangling-reference",
    "period-reversed",
    "wrong-class",
)
TEXT_FILE = "article.txt"
BODY_END = "本平台仅提供信息存储服务。"

_SYL = "安宁平和春华江海山川明光东西南北新兴长乐嘉祥瑞丰德泰云林清源青阳金石中天文武永定"
_EN_SYL = ["an", "ning", "ping", "he", "chun", "hua", "jiang", "hai", "shan", "chuan", "ming", "guang", "dong", "xi"]
_TOPIC = ["人工智能", "集成电路", "生物医药", "量子信息", "新能源", "低空经济", "先进制造", "数字经济", "绿色低碳"]
_TOPIC_EN = [
    "artificial intelligence",
    "integrated circuits",
    "biomedicine",
    "quantum information",
    "new energy",
    "low-altitude economy",
    "advanced manufacturing",
    "digital economy",
    "green and low-carbon development",
]
_RELATIVE_DAY = ["今年{m}月{d}日", "{m}月{d}日"]
_ROLES = [("教授", "Professor"), ("院长", "President"), ("研究员", "Research fellow"), ("副主任", "Deputy director")]


def parse_size(text: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    t = text.strip().lower().replace("_", "")
    mult = 1
    if t.endswith("k"):
        mult, t = 1000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    value = float(t) * mult
    if value <= 0:
        raise ValueError(f"size must be positive: {text!r}")
    return int(value)


@dataclass
class GeneratedSource:
    id: str
    facts: dict[str, Any]
    text: str
    triples: int
    defects: list[str] = field(default_factory=list)


@dataclass
class GenerateReport:
    sources: int
    triples: int
    defects: dict[str, int]
    out: Path


class _Story:
    """Collects a source's entities, its body sentences and the triples they will make."""

    def __init__(self, rng: random.Random, index: int, prefix: str) -> None:
        self.rng = rng
        self.index = index
        self.prefix = prefix
        self.entities: list[dict[str, Any]] = []
        self.sentences: list[str] = []
        self.serial = 0

    def new_id(self, kind: str) -> str:
        self.serial += 1
        return f"{kind}-{self.prefix}{self.index:06d}-{self.serial}"

    def name(self, n: int = 2) -> tuple[str, str]:
        zh = "".join(self.rng.choice(_SYL) for _ in range(n))
        en = "".join(self.rng.choice(_EN_SYL) for _ in range(n)).capitalize()
        return zh, en

    def say(self, sentence: str, quote_len: int | None = None) -> str:
        """Put a sentence in the body and return the quote (all of it, or its start)."""
        self.sentences.append(sentence + "。")
        if quote_len is not None and len(sentence) > quote_len + 4:
            return sentence[:quote_len]
        return sentence

    def add(self, ent: dict[str, Any]) -> dict[str, Any]:
        self.entities.append(ent)
        return ent

    def known(self, ident: str, types: str | list[str], zh: str, en: str, quote: str, **values: Any) -> dict[str, Any]:
        """Add the entity ``ident``: its types, labels, ``values`` and one evidence quote."""
        return self.add({"id": ident, "type": types, "label": {"zh": zh, "en": en}, **values, "evidence": [quote]})

    def entity(self, kind: str, types: str | list[str], zh: str, en: str, quote: str, **values: Any) -> dict[str, Any]:
        """:meth:`known` with a new id of ``kind``."""
        return self.known(self.new_id(kind), types, zh, en, quote, **values)


def _hub_ids(prefix: str) -> dict[str, list[str]]:
    return {
        "media": [f"media-{prefix}{k}" for k in range(3)],
        "province": [f"province-{prefix}{k}" for k in range(4)],
        "region": [f"region-{prefix}{k}" for k in range(2)],
        "legislature": [f"congress-{prefix}{k}" for k in range(2)],
        "field": [f"field-{prefix}{k}" for k in range(len(_TOPIC))],
        "scheme": [f"fields-{prefix}scheme"],
        "route": [f"route-{prefix}0"],
    }


def _hub_story(story: _Story, hubs: dict[str, list[str]]) -> None:
    rng = story.rng
    media_names = [("华东日报", "East China Daily"), ("财经观察", "Finance Observer"), ("新闻号", "News Hao")]
    for mid, (zh, en) in zip(hubs["media"], media_names, strict=True):
        q = story.say(f"来源:{zh}")
        story.known(mid, "MediaOrganisation", zh, en, q)
    prov = []
    for pid in hubs["province"]:
        zh, en = story.name()
        zh, en = zh + "省", en + " Province"
        prov.append(pid)
        q = story.say(f"{zh}与周边地区加强科技合作")
        ent = story.known(pid, "ProvinceLevelDivision", zh, en, q)
        if pid == hubs["province"][0]:
            ent["type"] = ["City", "ProvinceLevelDivision"]
    for rid in hubs["region"]:
        zh, en = story.name()
        q = story.say(f"{zh}区域由{len(prov)}个省级行政区组成")
        comment = {"zh": "由多个省级行政区组成的区域。", "en": "A region made of several divisions."}
        story.known(rid, "Region", zh + "区域", en + " Region", q, comment=comment, hasMember=list(prov))
    for lid, pid in zip(hubs["legislature"], prov, strict=False):
        q = story.say(f"{pid}人大常委会审议通过相关决定")
        story.known(lid, "Legislature", "人民代表大会" + lid[-1], "People's Congress " + lid[-1], q, jurisdiction=pid)
    sid = hubs["scheme"][0]
    q = story.say("围绕" + "、".join(_TOPIC) + "等重点领域布局")
    story.known(sid, "TechnologyFieldScheme", "重点技术领域", "Key fields", q)
    for fid, zh, en in zip(hubs["field"], _TOPIC, _TOPIC_EN, strict=True):
        story.known(fid, "TechnologyField", zh, en.capitalize(), zh, inScheme=sid)
    q = story.say("这条沿着沪昆高速延伸的走廊连接多座城市")
    story.known(hubs["route"][0], "TransportRoute", "沪昆高速", "Shanghai-Kunming Expressway", q)
    rng.random()


def _date(rng: random.Random, year: int) -> str:
    """A date with a randomly chosen precision: day, month or year."""
    kind = rng.random()
    if kind < 0.4:
        return f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind < 0.75:
        return f"{year:04d}-{rng.randint(1, 12):02d}"
    return f"{year:04d}"


def _policy_story(story: _Story, hubs: dict[str, list[str]], prev: dict[str, str]) -> None:
    rng = story.rng
    zh, en = story.name()
    body = story.entity(
        "office",
        rng.choice(["PublicBody", "Organisation"]),
        f"{zh}市科学技术委员会",
        f"{en} Science and Technology Commission",
        story.say(f"{zh}市科学技术委员会牵头编制了新的行动方案", 12),
        jurisdiction=rng.choice(hubs["province"]),
    )
    if "office" in prev and rng.random() < 0.5:
        body["subOrganisationOf"] = prev["office"]
    kind = rng.choice(["ActionPlan", "PolicyMeasures", "RegionalLegislation", "FiveYearPlan"])
    start = rng.randint(2019, 2025)
    title_zh, title_en = story.name(3)
    doc: dict[str, Any] = {
        "id": story.new_id("plan"),
        "type": kind,
        "label": {"zh": f"{title_zh}科技创新行动方案({start}-{start + 3}年)", "en": f"{title_en} S&T action plan"},
        "appliesTo": rng.choice(hubs["region"] + hubs["province"]),
        "dateIssued": _date(rng, start),
        "validFrom": f"{start:04d}",
        "validUntil": f"{start + 3:04d}",
    }
    if kind == "RegionalLegislation":
        doc["enactedBy"] = list(hubs["legislature"])
        doc["entryIntoForce"] = {"stated": rng.choice(_RELATIVE_DAY).format(m=rng.randint(1, 9), d=rng.randint(1, 28))}
        doc["shortTitle"] = "《决定》"
        doc["inferred"] = {"shortTitle": _CARRIED}  # the story's quote does not use it (issue 17)
        doc.pop("dateIssued")
    else:
        doc["issuedBy"] = body["id"]
        doc["inferred"] = {"issuedBy": _CARRIED}  # the quote names the plan, not its body (issue 17)
    if rng.random() < 0.3:
        doc["datePublished"] = {"stated": rng.choice(["上月", "本月", "今年"])}
    doc["evidence"] = [
        story.say(f"{title_zh}科技创新行动方案({start}-{start + 3}年)正式发布,提出{rng.choice(_TOPIC)}发展目标", 16)
    ]
    if rng.random() < 0.4:
        doc["comment"] = {
            "zh": "文章称其为区域合作的重要文件。",
            "en": "The article calls it a key document of regional cooperation.",
        }
    story.add(doc)
    for k in range(rng.randint(1, 2)):
        topic = rng.randrange(len(_TOPIC))
        story.entity(
            "provision",
            "PolicyProvision",
            f"推动{_TOPIC[topic]}协同发展{k + 1}",
            f"Advance {_TOPIC_EN[topic]} together {k + 1}",
            story.say(f"方案提出推动{_TOPIC[topic]}协同发展{k + 1}"),
            provisionOf=doc["id"],
            concerns=[hubs["field"][topic]],
        )


#: the inference mark of a link the story's quote does not name (it is in the sentence or
#: paragraph around it): written into the facts as `inferred:` (issue 17)
_CARRIED = {
    "method": "carried-from-context",
    "note": {
        "zh": "引语未提及该值，承接上下文。",
        "en": "The quote does not name the value; it is carried from the context.",
    },
}


def _meeting_story(story: _Story, hubs: dict[str, list[str]], prev: dict[str, str]) -> None:
    rng = story.rng
    zh, en = story.name()
    org = story.entity(
        "committee",
        "PublicBody",
        f"中共{zh}市委常委会",
        f"Standing Committee of the CPC {en} Committee",
        story.say(f"中共{zh}市委常委会举行扩大会议", 9),
    )
    m, d = rng.randint(1, 11), rng.randint(1, 27)
    meeting = story.entity(
        "meeting",
        rng.choice(["Meeting", "Conference"]),
        f"{zh}市委常委会扩大会议（{m}月{d}日）",
        f"Enlarged meeting in {en} ({m}/{d})",
        story.say(f"{zh}市委常委会{m}月{d}日举行扩大会议,传达上级会议精神"),
        convenedBy=org["id"],
        startDate={"stated": f"{m}月{d}日"},
        endDate={"stated": f"{m}月{d + 1}日"},
    )
    if "meeting" in prev:
        meeting["conveys"] = prev["meeting"]
    for k in range(rng.randint(1, 2)):
        topic = rng.randrange(len(_TOPIC))
        task = story.entity(
            "task",
            "Task",
            f"加快发展{_TOPIC[topic]}{k + 1}",
            f"Speed up {_TOPIC_EN[topic]} {k + 1}",
            story.say(f"会议强调要加快发展{_TOPIC[topic]}{k + 1}"),
            setBy=meeting["id"],
            concerns=rng.sample(hubs["province"], 2),
        )
        if rng.random() < 0.5:
            task["forYear"] = {"stated": "明年"}


def _expert_story(story: _Story, hubs: dict[str, list[str]], prev: dict[str, str]) -> None:
    rng = story.rng
    zh, en = story.name()
    uni = story.entity(
        "institute",
        "ResearchOrganisation",
        f"{zh}大学",
        f"{en} University",
        story.say(f"{zh}大学的研究团队发布报告", 4),
    )
    pzh, pen = story.name()
    person = story.entity("person", "Person", pzh, pen, story.say(f"{zh}大学{rng.choice(_ROLES)[0]}{pzh}表示"))
    role_zh, role_en = rng.choice(_ROLES)
    story.entity(
        "role",
        "Affiliation",
        f"{pzh}，{zh}大学{role_zh}",
        f"{pen}, {role_en.lower()}, {en} University",
        story.say(f"{zh}大学{role_zh}{pzh}长期研究区域创新"),
        member=person["id"],
        organisation=uni["id"],
        roleLabel={"zh": role_zh, "en": role_en},
    )
    pub = None
    if rng.random() < 0.4:
        pub = story.entity(
            "article",
            "Publication",
            f"{pzh}的分析文章",
            f"{pen}'s analysis",
            story.say(f"{pzh}在其分析文章中指出"),
            author=person["id"],
        )
    topic = rng.randrange(len(_TOPIC))
    text = f"{_TOPIC[topic]}的创新链条长、投入大、风险高,需要区域协同推进"
    stmt = story.entity(
        "view",
        "Statement",
        f"{pzh}：{_TOPIC[topic]}需要区域协同",
        f"{pen}: {_TOPIC_EN[topic]} needs coordination",
        story.say(f"“{text}”{pzh}说"),
        speaker=person["id"],
        medium=pub["id"] if pub else rng.choice(hubs["media"]),
        text=text + "。",
        isDirectQuote=rng.random() < 0.5,
        about=[hubs["field"][topic]] + ([prev["plan"]] if "plan" in prev else []),
    )
    if pub is not None:
        stmt["inferred"] = {"medium": _CARRIED}  # the article is named in the sentence before (issue 17)
    if rng.random() < 0.3:
        stmt["statedOn"] = _date(rng, 2025)


def _places_story(story: _Story, hubs: dict[str, list[str]], prev: dict[str, str]) -> None:
    rng = story.rng
    cities = []
    for _ in range(rng.randint(2, 3)):
        zh, en = story.name()
        cities.append(story.entity("city", "City", zh + "市", en, story.say(f"{zh}市是区域重要节点城市", 3)))
    zh, en = story.name()
    story.entity(
        "corridor",
        "Corridor",
        f"{zh}科创走廊",
        f"{en} S&T innovation corridor",
        story.say(f"{zh}科创走廊连接起了" + "、".join(c["label"]["zh"] for c in cities) + "等城市"),
        linksCity=[c["id"] for c in cities],
        follows=hubs["route"][0],
    )


def _centre_story(story: _Story, hubs: dict[str, list[str]], prev: dict[str, str]) -> None:
    rng = story.rng
    zh, en = story.name()
    centre = story.entity(
        "centre",
        "InnovationCentre",
        f"{zh}国际科技创新中心",
        f"{en} International S&T Innovation Centre",
        story.say(f"{zh}国际科技创新中心被列为明年的重点任务之一"),
        anchoredIn=[hubs["province"][0]],
        servesRegion=[rng.choice(hubs["region"])],
    )
    des: dict[str, Any] = {
        "id": story.new_id("designation"),
        "type": "Designation",
        "label": {"zh": f"{zh}国际科技创新中心（提法）", "en": f"{en} centre (designation)"},
        "designates": centre["id"],
        "literalForm": f"{zh}国际科技创新中心",
        "usedIn": [prev["plan"]] if "plan" in prev else [prev.get("meeting", hubs["media"][0])],
        "evidence": [story.say(f"文件使用了{zh}国际科技创新中心的表述")],
    }
    if "plan" not in prev and "meeting" not in prev:
        des["usedIn"] = [story.new_id("measures")]  # replaced below by a local document
        story.known(
            des["usedIn"][0],
            "PolicyMeasures",
            f"支持{zh}中心建设若干措施",
            f"Measures supporting the {en} centre",
            story.say(f"支持{zh}中心建设若干措施上月发布"),
            datePublished=_date(rng, 2024),
        )
    # the quote names no document: the link is carried from the paragraph around it (issue 17)
    des["inferred"] = {"usedIn": _CARRIED}
    if "designation" in prev:
        des["supersedes"] = prev["designation"]
    story.add(des)


def _initiative_story(story: _Story, hubs: dict[str, list[str]], prev: dict[str, str]) -> None:
    rng = story.rng
    zh, en = story.name()
    topics = rng.sample(range(len(_TOPIC)), 3)
    kind = rng.choice(["ConsortiumProgramme", "Initiative", "Strategy"])
    ent: dict[str, Any] = {
        "id": story.new_id("initiative"),
        "type": kind,
        "label": {"zh": f"{zh}创新联合体", "en": f"{en} innovation consortia"},
        "inRegion": [rng.choice(hubs["region"])],
        "field": [hubs["field"][t] for t in topics],
        "startYear": f"{rng.randint(2018, 2025):04d}",
    }
    count = rng.randint(3, 40)
    if kind == "ConsortiumProgramme":
        ent["memberCount"] = count
        ent["isPilot"] = rng.random() < 0.5
    if "office" in prev:
        ent["builtBy"] = [prev["office"]]
    ent["evidence"] = [
        story.say(f"围绕{'、'.join(_TOPIC[t] for t in topics)}等领域,{zh}试点建设了{count}家创新联合体", 20),
        story.say(f"{zh}纵向联合上下游企业、横向联合高校院所"),
    ]
    story.add(ent)


_STORIES = [_policy_story, _meeting_story, _expert_story, _places_story, _centre_story, _initiative_story]


def _memory(story: _Story) -> dict[str, str]:
    """Ids a later source may link to (the first entity of each kind this source made)."""
    out: dict[str, str] = {}
    for ent in story.entities:
        kind = ent["id"].split("-", 1)[0]
        if kind in ("office", "plan", "meeting", "designation") and kind not in out:
            out[kind] = ent["id"]
    return out


def count_triples(facts: dict[str, Any]) -> int:
    """How many triples the toolkit makes from a (valid) facts document."""
    n = 15 if "publishedNotBefore" in facts["source"] else 14  # the article's own triples
    for ent in facts["entities"]:
        types = ent["type"] if isinstance(ent["type"], list) else [ent["type"]]
        n += len(types) + 6 * len(ent["evidence"])
        for key, value in ent.items():
            if key in ("id", "type", "evidence"):
                continue
            if key == "inferred":  # a pt:Inference per marked value (the generator marks single values)
                n += sum(6 + len(mark["note"]) for mark in value.values())
                continue
            if isinstance(value, dict) and "stated" in value:
                n += 1 + 6 + len(value.get("note", {}))
            elif isinstance(value, (dict, list)):
                n += len(value)
            else:
                n += 1
    return n


def _yaml_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _yaml_str(str(value))


def _yaml_value(key: str, value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()) and key in ("label", "roleLabel"):
            inner = ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in value.items())
            return [f"{indent}{key}: {{{inner}}}"]
        lines = [f"{indent}{key}:"]
        for k, v in value.items():
            lines.extend(_yaml_value(k, v, indent + "  "))
        return lines
    if isinstance(value, list):
        if key == "evidence":
            return [f"{indent}{key}:"] + [f"{indent}  - {_yaml_scalar(v)}" for v in value]
        return [f"{indent}{key}: [{', '.join(_yaml_scalar(v) for v in value)}]"]
    return [f"{indent}{key}: {_yaml_scalar(value)}"]


def facts_yaml(facts: dict[str, Any]) -> str:
    """Block-style YAML as a person writes it (every string quoted, so nothing is re-typed)."""
    lines = ["# Synthetic facts written by `policy-toolkit corpus generate`.", "source:"]
    for key, value in facts["source"].items():
        lines.extend(_yaml_value(key, value, "  "))
    lines += ["", "entities:"]
    for ent in facts["entities"]:
        chunk = [line for key, value in ent.items() for line in _yaml_value(key, value, "    ")]
        chunk[0] = "  - " + chunk[0][4:]  # the entry's first key opens the list item
        lines.extend(chunk)
    return "\n".join(lines) + "\n"


def _pick(rng: random.Random, ents: list[dict[str, Any]], keys: tuple[str, ...]) -> tuple[dict[str, Any], str] | None:
    """An entity holding one of ``keys`` (``rng``'s choice) and the first of them it holds."""
    having = [e for e in ents if any(k in e for k in keys)]
    if not having:
        return None
    ent = rng.choice(having)
    return ent, next(k for k in keys if k in ent)


def _inject(kind: str, facts: dict[str, Any], story: _Story, rng: random.Random) -> bool:
    ents = [e for e in facts["entities"] if e is not None]
    if kind == "missing-label":
        ent = rng.choice(ents)
        ent["label"] = {"zh": ent["label"]["zh"]}
    elif kind == "wrong-date-type":
        if not (found := _pick(rng, ents, ("dateIssued", "startYear", "statedOn", "datePublished"))):
            return False
        ent, key = found
        ent[key] = rng.choice(["2025-02-30", "2025-13", "last spring"])
    elif kind == "quote-not-in-source":
        ent = rng.choice(ents)
        ent["evidence"][0] = ent["evidence"][0] + "（原文并无此句）"
    elif kind == "dangling-reference":
        if not (found := _pick(rng, ents, ("provisionOf", "setBy", "member", "speaker", "designates"))):
            return False
        ent, key = found
        value = ent[key]
        ent[key] = (value[0] if isinstance(value, list) else value) + "-missing"
    elif kind == "period-reversed":
        docs = [e for e in ents if "validFrom" in e and "validUntil" in e]
        if not docs:
            return False
        ent = rng.choice(docs)
        ent["validUntil"] = f"{int(ent['validFrom']) - 1:04d}"
    elif kind == "wrong-class":
        if not (found := _pick(rng, ents, ("issuedBy", "convenedBy"))):
            return False
        ent, key = found
        places = [e for e in ents if e["type"] in ("City", "Corridor")]
        ent[key] = places[0]["id"] if places else f"province-{story.prefix}1"
    else:
        raise ValueError(f"unknown defect {kind!r}; known: {', '.join(DEFECTS)}")
    return True


def generate_source(
    index: int,
    *,
    seed: int,
    prefix: str = "",
    defect_rate: float = 0.0,
    defects: tuple[str, ...] = DEFECTS,
    previous: dict[str, str] | None = None,
) -> tuple[GeneratedSource, dict[str, str]]:
    """One source: its facts, its text, how many triples it makes, and what later sources may link to."""
    rng = random.Random(f"policy-toolkit-corpus:{seed}:{index}")
    hubs = _hub_ids(prefix)
    story = _Story(rng, index, prefix)
    sid = f"{prefix}src-{index:06d}" if prefix else f"src-{index:06d}"
    publisher = hubs["media"][index % 3]
    prev = previous or {}
    if index == 0:
        _hub_story(story, hubs)
    else:
        for fn in rng.sample(_STORIES, 2 if rng.random() < 0.15 else 1):
            fn(story, hubs, prev)
    year = 2025
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    headline_zh, headline_en = story.name(3)
    headline = f"{headline_zh}加快建设区域科技创新高地"
    facts: dict[str, Any] = {
        "source": {
            "id": sid,
            "text": TEXT_FILE,
            "label": {"zh": headline, "en": f"{headline_en} speeds up building a regional innovation highland"},
            "publisher": publisher,
            "platform": hubs["media"][2],
            "rightsHolder": publisher,
            "language": "zh",
            "datePublished": f"{year:04d}-{month:02d}" if rng.random() < 0.5 else f"{year:04d}-{month:02d}-{day:02d}",
            "datingNote": {
                "zh": "页面标注的发布日期。",
                "en": "The publication date the page gives.",
            },
            "body": {"start": headline, "end": BODY_END},
        },
        "entities": story.entities,
    }
    if rng.random() < 0.5:
        facts["source"]["publishedNotBefore"] = f"{year:04d}-{month:02d}-{day:02d}"
    injected: list[str] = []
    if defect_rate > 0 and index > 0 and rng.random() < defect_rate:
        kinds = list(defects)
        rng.shuffle(kinds)
        for kind in kinds:
            if _inject(kind, facts, story, rng):
                injected.append(kind)
                break
    paragraphs = []
    sentences = list(story.sentences)
    while sentences:
        take, sentences = sentences[:3], sentences[3:]
        paragraphs.append("".join(take))
    text = (
        "网易首页 > 网易号 > 正文 申请入驻\n\n"
        f"{headline}\n\n0\n分享至\n\n"
        + "\n\n".join(paragraphs)
        + f"\n\n特别声明:以上内容为自媒体平台用户上传并发布,{BODY_END}\n\n相关推荐\n热点推荐\n"
        + f"{story.name(4)[0]}的新闻\n"
    )
    return (
        GeneratedSource(id=sid, facts=facts, text=text, triples=count_triples(facts), defects=injected),
        _memory(story),
    )


def iter_corpus(
    *,
    seed: int,
    sources: int | None = None,
    triples: int | None = None,
    defect_rate: float = 0.0,
    defects: tuple[str, ...] = DEFECTS,
    prefix: str = "",
) -> Iterator[GeneratedSource]:
    """Sources in order until ``sources`` are made or ``triples`` are reached (whichever is given)."""
    if (sources is None) == (triples is None):
        raise ValueError("give exactly one of sources= and triples=")
    made = total = 0
    previous: dict[str, str] = {}
    while (sources is not None and made < sources) or (triples is not None and total < triples):
        src, memory = generate_source(
            made, seed=seed, prefix=prefix, defect_rate=defect_rate, defects=defects, previous=previous
        )
        # short chains: every tenth source starts afresh
        previous = {} if made % 10 == 9 else memory
        made += 1
        total += src.triples
        yield src


def write_corpus(
    out: Path,
    *,
    seed: int,
    sources: int | None = None,
    triples: int | None = None,
    defect_rate: float = 0.0,
    defects: tuple[str, ...] = DEFECTS,
    prefix: str = "",
) -> GenerateReport:
    """Write the corpus under ``out`` (one folder per source); returns what was made."""
    out.mkdir(parents=True, exist_ok=True)
    n = total = 0
    counts = dict.fromkeys(defects, 0)
    # Progress on a terminal (silent in pipes and CI), counted in what the caller asked for.
    by_sources = sources is not None
    with progress("sources" if by_sources else "triples", sources if by_sources else triples) as tick:
        for src in iter_corpus(
            seed=seed, sources=sources, triples=triples, defect_rate=defect_rate, defects=defects, prefix=prefix
        ):
            folder = out / src.id
            folder.mkdir(exist_ok=True)
            (folder / TEXT_FILE).write_text(src.text, encoding="utf-8")
            (folder / "facts.yaml").write_text(facts_yaml(src.facts), encoding="utf-8")
            n += 1
            total += src.triples
            for kind in src.defects:
                counts[kind] += 1
            tick.advance(1 if by_sources else src.triples)
    return GenerateReport(sources=n, triples=total, defects=counts, out=out)
