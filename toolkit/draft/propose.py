"""Find what a source's text says that a facts file records: the proposals of `draft`.

Each finder reads the body as `validate` sees it (whitespace-normalised, between body.start and
body.end) and proposes facts with a verbatim quote, a confidence and the reason. The rules
are plain patterns of Chinese news writing (X表示, 《…》, 3月11日, 约300名) plus jieba's
part-of-speech tags (nr person, ns place, nt organisation) for names the patterns miss;
everything is deterministic, so the same text and corpus give the same draft.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jieba
import jieba.posseg as pseg

from toolkit.draft.numbers import find_quantities
from toolkit.sources.dates import DateProblem, DateValue, parse_date, resolve_relative
from toolkit.sources.ingest import person_en_name, person_slug, pinyin_slug
from toolkit.sources.loader import Entity, LangText, PlainLit

jieba.setLogLevel(logging.WARNING)

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002FFFF"
ROLES = sorted(
    [
        "特聘研究员",
        "研究员",
        "副院长",
        "院长",
        "副教授",
        "教授",
        "副厅长",
        "厅长",
        "副局长",
        "局长",
        "副主任",
        "主任",
        "总经理",
        "副总经理",
        "董事长",
        "负责人",
        "党委书记",
        "副书记",
        "书记",
        "副市长",
        "市长",
        "副所长",
        "所长",
        "主席",
        "秘书长",
        "首席科学家",
        "总工程师",
        "首席经济学家",
        "副部长",
        "部长",
        "省长",
        "副省长",
        "县长",
        "副县长",
        "区长",
        "副区长",
        "镇长",
        "总裁",
        "副总裁",
        "处长",
        "副处长",
        "主编",
        "记者",
    ],
    key=len,
    reverse=True,
)
_ROLE = "|".join(ROLES)
SPEECH_VERBS = ("表示", "认为", "指出", "称", "强调", "介绍", "说")
_VERB = "|".join(SPEECH_VERBS)
ORG_SUFFIXES = [
    "科学技术委员会",
    "委员会",
    "科学技术厅",
    "交通运输厅",
    "大学",
    "学院",
    "研究院",
    "研究所",
    "实验室",
    "集团",
    "公司",
    "厅",
    "局",
    "政府",
    "报社",
    "日报",
    "中心",
    "协会",
    "人大常委会",
    "法工委",
    "办公室",
]
_PUBLIC = ("厅", "局", "委员会", "政府", "人大", "办公室", "法工委", "部")
_RESEARCH = ("大学", "学院", "研究院", "研究所", "实验室")
_MEDIA = ("报社", "日报", "报", "电视台", "新闻")
DOC_KINDS = (
    ("五年规划", "FiveYearPlan"),
    ("行动方案", "ActionPlan"),
    ("行动计划", "ActionPlan"),
    ("方案", "ActionPlan"),
    ("若干措施", "PolicyMeasures"),
    ("措施", "PolicyMeasures"),
    ("决定", "RegionalLegislation"),
    ("条例", "RegionalLegislation"),
    ("规划", "PolicyDocument"),
    ("意见", "PolicyDocument"),
    ("办法", "PolicyDocument"),
    ("通知", "PolicyDocument"),
)
EVENT_WORDS = ("论坛", "峰会", "大会", "博览会", "会议", "研讨会")
_N = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
DATE_RX = re.compile(
    rf"(?P<abs>\d{{4}}年(?:\d{{1,2}}月(?:\d{{1,2}}[日号])?)?)"
    rf"|(?P<rel>(?:今年|去年){_N}月(?:{_N}[日号])?|(?<![\d年]){_N}月{_N}[日号]"
    r"|(?:今年|去年|明年)?(?:[上下]半年|[一二三四]季度)|今年|明年|去年|本月|上月|下月|上个月|下个月|近日|日前)"
)
#: words jieba tags as names (nr, ns) that name nothing in policy news
NOT_NAMES = frozenset(
    ["城市", "地区", "全省", "全市", "全国", "区域", "沿线", "港区", "园区", "省级", "市级", "国家", "智慧", "时说"]
)
#: the commonest surnames: a two- or three-character word jieba calls a name (nr) without a role
#: before it is proposed as a person only when it starts with one of these
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
#: one-character names of provinces (沪苏浙皖): jieba reads 苏浙皖 as a person
PROVINCE_ABBREVIATIONS = frozenset("沪苏浙皖京津冀粤港澳川渝湘鄂赣闽鲁豫晋陕甘宁青新藏桂琼黔滇辽吉黑蒙")
#: province-level names by their one-character abbreviation (沪苏浙皖 names four of them)
ABBREVIATIONS = {
    "沪": "上海",
    "苏": "江苏",
    "浙": "浙江",
    "皖": "安徽",
    "京": "北京",
    "津": "天津",
    "冀": "河北",
    "粤": "广东",
    "渝": "重庆",
    "川": "四川",
    "鄂": "湖北",
    "湘": "湖南",
    "赣": "江西",
    "闽": "福建",
    "鲁": "山东",
    "豫": "河南",
}
#: regions named as one word
REGIONS = ("粤港澳大湾区", "长三角", "京津冀", "珠三角", "成渝地区", "长江经济带", "黄河流域")
#: province-level divisions and large cities: a jieba place (ns) is proposed when it is one of these
#: or ends in an administrative suffix; jieba's other ns words (深度, 法治化) are mostly noise
MUNICIPALITIES = frozenset(["北京", "天津", "上海", "重庆"])
PROVINCES = frozenset(
    [
        "河北",
        "山西",
        "辽宁",
        "吉林",
        "黑龙江",
        "江苏",
        "浙江",
        "安徽",
        "福建",
        "江西",
        "山东",
        "河南",
        "湖北",
        "湖南",
        "广东",
        "海南",
        "四川",
        "贵州",
        "云南",
        "陕西",
        "甘肃",
        "青海",
        "台湾",
        "内蒙古",
        "广西",
        "西藏",
        "宁夏",
        "新疆",
        "香港",
        "澳门",
    ]
)
CITIES = frozenset(
    [
        "南京",
        "杭州",
        "合肥",
        "苏州",
        "无锡",
        "常州",
        "南通",
        "宁波",
        "温州",
        "嘉兴",
        "湖州",
        "绍兴",
        "金华",
        "舟山",
        "台州",
        "芜湖",
        "蚌埠",
        "宣城",
        "广州",
        "深圳",
        "武汉",
        "成都",
        "西安",
        "郑州",
        "长沙",
        "济南",
        "青岛",
        "厦门",
        "福州",
        "沈阳",
        "大连",
    ]
)
PLACES = MUNICIPALITIES | PROVINCES | CITIES
_PLACE_SUFFIX = ("省", "市", "区", "县", "州", "镇", "港区")
#: reported speech: who (with role and outlet), the verb, what was said
_REPORTED = re.compile(rf"(?P<chunk>[^，,。“”]{{1,60}}?)(?P<verb>{_VERB})[，：,:]?(?P<content>.{{8,}}?)[。！？]?$")
_IN_VIEW = re.compile(r"在(?P<chunk>[^，,。“”]{2,60}?)看来[，,](?P<content>[^“”]{8,}?)[。！？]?$")
_CLAUSE = re.compile(r"[^，；：。！？,;:!?]+")


@dataclass
class Proposal:
    """One proposed fact: an entity for the facts file, or a comment where the model has no slot."""

    kind: str  # date, quantity, statement, known, candidate, person, organisation, place, document, event, affiliation
    start: int
    confidence: float
    why: str
    quotes: list[str]
    id: str = ""
    types: tuple[str, ...] = ()
    label_zh: str = ""
    label_en: str = ""
    props: dict[str, Any] = field(default_factory=dict)
    commented: bool = False
    note: str = ""  # what a commented proposal says (date value, quantity...)
    stated: str = ""  # the words of a date or quantity, for --missing


@dataclass
class Known:
    """The corpus's entities by the words that name them (zh and en labels, literal forms, short titles)."""

    by_name: dict[str, list[str]]
    labels: dict[str, str]

    @classmethod
    def of(cls, entities: Iterable[Entity]) -> Known:
        by_name: dict[str, list[str]] = {}
        labels: dict[str, str] = {}
        for ent in sorted(entities, key=lambda e: e.id):
            names: set[str] = set()
            for key in ("label", "literalForm", "shortTitle"):
                for v in ent.values.get(key, []):
                    if isinstance(v, LangText):
                        names.add(v.text.strip("《》“”"))
                    elif isinstance(v, PlainLit) and isinstance(v.value, str):
                        names.add(v.value.strip("《》“”"))
            labels[ent.id] = ent.label() or ent.id
            for name in names:
                if len(name) >= 2:
                    by_name.setdefault(name, []).append(ent.id)
        return cls(by_name, labels)

    def ids(self, name: str) -> list[str]:
        return self.by_name.get(name, [])


def _clause_at(text: str, start: int, end: int) -> str:
    """The clause (between commas or stops) around text[start:end], widened to hold it all."""
    left = max(text.rfind(ch, 0, start) for ch in "，；。！？：,;!? ") + 1
    rights = [i for i in (text.find(ch, end) for ch in "，；。！？,;!? ") if i >= 0]
    right = min(rights) if rights else len(text)
    if right - left < 6 and right < len(text) and text[right] in "，,":
        # "今年，…": a clause of a word or two says nothing; take the next clause with it
        more = [i for i in (text.find(ch, right + 1) for ch in "，；。！？,;!? ") if i >= 0]
        right = min(more) if more else len(text)
    return text[left:right]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^。！？ ]+[。！？]?", text)]


def _counted_before(text: str, start: int) -> str:
    """What a number counts when the words come before it: 产业规模已近4000亿元 -> 产业规模."""
    left = max(text.rfind(ch, 0, start) for ch in "，；。！？,;!? ") + 1
    before = re.split(r"[\d年月日]", text[left:start])[-1]
    words = re.sub(r"(已|已经|达|达到|为|是|将|共|约|突破|超过|不少于)+$", "", before)
    # the subject and its verb come first: 示范区新增高新技术企业 -> 高新技术企业
    words = re.split(r"新增|累计|共有|建成|培育|设立|投入|带动|引进|签约|实现|完成|拥有", words)[-1] or words
    return words[-10:]


def org_type(name: str) -> str:
    if name.endswith(_MEDIA):
        return "MediaOrganisation"
    if name.endswith(_RESEARCH):
        return "ResearchOrganisation"
    if name.endswith(_PUBLIC) or "人大" in name:
        return "PublicBody"
    return "Organisation"


def doc_type(title: str) -> str:
    core = re.sub(r"[（(][^）)]*[）)]$", "", title)
    for word, kind in DOC_KINDS:
        if core.endswith(word) or (word == "五年规划" and "五" in core and core.endswith("规划")):
            return kind
    return "PolicyDocument"


class Drafter:
    """Holds the body, the corpus index and the proposals made so far (their ids stay unique)."""

    def __init__(
        self,
        body: str,
        published: DateValue,
        known: Known,
        publisher_id: str,
        taken_ids: set[str],
        *,
        quantity_entities: bool = False,
        event_location: bool = False,
    ) -> None:
        self.event_location = event_location  # the model's Meeting has location (issue 13)
        self.quantity_entities = quantity_entities  # the model has a Quantity class (issue 13)
        self.body = body
        self.published = published
        self.known = known
        self.publisher_id = publisher_id
        self.taken = set(taken_ids)
        self.proposals: list[Proposal] = []
        self.by_label: dict[str, Proposal] = {}
        self.tokens = [(w, f) for w, f in pseg.cut(body)]
        self.aliases: set[str] = set()  # short titles given by (下称《…》)
        self.titles = [(m.start(), m.end()) for m in re.finditer(r"《[^》]{2,80}》", body)]

    # ------------------------------------------------------------------ helpers
    def _id(self, base: str) -> str:
        out, n = base, 2
        while out in self.taken:
            out, n = f"{base}-{n}", n + 1
        self.taken.add(out)
        return out

    def _in_title(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.titles)

    def entity_for(
        self, name: str, kind: str, start: int, quote: str, why: str, conf: float, types: tuple[str, ...]
    ) -> str:
        """The id of the entity named ``name``: a known one, one proposed before, or a new proposal."""
        ids = self.known.ids(name)
        if len(ids) == 1:
            return ids[0]
        if name in self.by_label:
            return self.by_label[name].id
        if kind == "person":
            ident, en = self._id(person_slug(name)), person_en_name(name)
        else:
            ident, en = self._id(pinyin_slug(name, 6)), "TODO " + name
        prop = Proposal(kind, start, conf, why, [quote], ident, types, name, en)
        self.proposals.append(prop)
        self.by_label[name] = prop
        return ident

    # ------------------------------------------------------------------ finders
    def run(self) -> list[Proposal]:
        self.find_publisher()
        self.find_speakers()
        self.find_documents()
        self.find_events()
        self.find_regions()
        self.find_dates()
        self.find_quantities()
        self.find_organisations()
        self.find_people()
        self.find_places()
        self.find_known()
        return sorted(self.proposals, key=lambda p: (p.start, p.kind, p.id, p.note))

    def find_publisher(self) -> None:
        """The outlet the byline names (来源：…), under the id the source block gave it."""
        m = re.search(rf"来源[：:]\s*([{CJK}A-Za-z0-9]{{2,20}})", self.body)
        if m is None or self.known.ids(m.group(1)):
            return
        name = m.group(1)
        ident = self.publisher_id if self.publisher_id and self.publisher_id not in self.taken else pinyin_slug(name, 6)
        self.taken.add(ident)
        prop = Proposal(
            "organisation",
            m.start(),
            0.9,
            "the outlet the byline names (来源); the source block's publisher",
            [m.group(0)],
            ident,
            ("MediaOrganisation",),
            name,
            "TODO " + name,
        )
        self.proposals.append(prop)
        self.by_label[name] = prop
        for am in re.finditer(rf"(?:作者|记者)[：:]\s*([{CJK}]{{2,4}})", self.body):
            self.entity_for(
                am.group(1), "person", am.start(1), am.group(0), "the byline's author (作者/记者)", 0.8, ("Person",)
            )

    def _speaker(self, chunk: str, chunk_start: int) -> tuple[str | None, str, str | None]:
        """(speaker id, its name, medium id) from the words before a speech verb, making affiliations."""
        medium = None
        if "本报" in chunk:
            medium = self.publisher_id
        outlet = re.search(rf"(?:向|对|接受)([{CJK}]{{2,12}}?(?:新闻|日报|晚报|时报|报|社|网|电视台))", chunk)
        if outlet:
            medium = self.entity_for(
                outlet.group(1),
                "organisation",
                chunk_start,
                chunk,
                "the outlet a speaker spoke to (向/对…)",
                0.7,
                ("MediaOrganisation",),
            )
        core = re.split(r"(?:在|向|对|接受)", chunk, maxsplit=1)[0] if len(chunk) > 2 else chunk
        core = re.sub(r"(当时|此前|日前|近日|也|还|则|更|进一步|同时|随后)+$", "", core)
        if core in ("他", "她"):
            people = [p for p in self.proposals if p.kind == "person" and p.start < chunk_start]
            if people:
                last = max(people, key=lambda p: p.start)
                return last.id, last.label_zh, medium
            return None, core, medium
        m = re.fullmatch(rf"(?P<pre>.*?)(?P<role>{_ROLE})(?P<name>[{CJK}]{{2,3}})", core)
        if m is None:
            ids = self.known.ids(core)
            if len(ids) == 1:
                return ids[0], core, medium
            if core in self.by_label and self.by_label[core].kind == "person":
                return self.by_label[core].id, core, medium
            if re.fullmatch(f"[{CJK}]{{2,3}}", core) and core[0] in SURNAMES and core not in NOT_NAMES:
                why = "a name (common surname) right before a speech verb"
                return self.entity_for(core, "person", chunk_start, chunk, why, 0.6, ("Person",)), core, medium
            return None, core, medium
        name = m.group("name")
        person = self.entity_for(
            name,
            "person",
            chunk_start,
            core,
            f"a name after the role {m.group('role')} and before a speech verb",
            0.8,
            ("Person",),
        )
        parts = [p for p in re.split("[、，]", m.group("pre") + m.group("role")) if p]
        for part in parts:
            pm = re.fullmatch(rf"(?P<org>[{CJK}]{{2,30}}?)(?P<role>{_ROLE})", part)
            if pm is None:
                continue
            org_name, role = pm.group("org"), pm.group("role")
            parent = re.match(r"(.{2,12}?(?:大学|常委会|人民政府))(.{2,})$", org_name)
            org = self.entity_for(
                org_name,
                "organisation",
                chunk_start,
                core,
                f"the organisation before the role {role} of {name}",
                0.7,
                (org_type(org_name),),
            )
            if parent and org_name in self.by_label:
                upper = self.entity_for(
                    parent.group(1),
                    "organisation",
                    chunk_start,
                    core,
                    f"the organisation {org_name} belongs to",
                    0.6,
                    (org_type(parent.group(1)),),
                )
                if upper != org:
                    self.by_label[org_name].props.setdefault("subOrganisationOf", upper)
            aff_id = self._id(f"{person}-{pinyin_slug(role, 4)}")
            aff = Proposal(
                "affiliation",
                chunk_start,
                0.7,
                f"'{org_name}{role}{name}': organisation, role, person",
                [core],
                aff_id,
                ("Affiliation",),
                f"{name}，{org_name}{role}",
                f"TODO {name}, {role}",
                {"member": person, "organisation": org, "roleLabel": {"zh": role, "en": "TODO " + role}},
            )
            self.proposals.append(aff)
        return person, name, medium

    def find_speakers(self) -> None:
        text = self.body
        # direct quotes: “…”X说 / X说：“…”; their speakers are read after reported speech has
        # introduced the people ("陈宪表示…" before "“…”陈宪称")
        direct = []
        for m in re.finditer(r"“([^“”]{6,})”", text):
            after = re.match(rf"([^。“”，]{{0,40}}?)(?:{_VERB})", text[m.end() :])
            before = re.search(rf"([^。“”，]{{2,40}}?)(?:{_VERB})[：:]$", text[: m.start()])
            if after:
                chunk, chunk_start = after.group(1), m.end()
                quote = text[m.start() : m.end() + after.end()]
            elif before:
                chunk, chunk_start = before.group(1), before.start(1)
                quote = text[before.start(1) : m.end()]
            else:
                continue
            direct.append((m, chunk, chunk_start, quote))
        taken = [(m.start(), m.end()) for m, *_ in direct]
        # reported speech: X表示，…。 and 在X看来，…。
        last: tuple[int, str | None, str, str | None] | None = None  # end, speaker, name, medium
        for s, e in _sentence_spans(text):
            while s < e and text[s] in "”」 ":
                s += 1  # the sentence after a direct quote starts with its closing mark
            sentence = text[s:e]
            m = _REPORTED.match(sentence) or _IN_VIEW.match(sentence)
            follows = last is not None and last[0] == s and last[1] is not None
            if m is None and follows and not any(s <= a < e for a, _ in taken) and len(sentence) >= 12:
                # the next sentence of the same paragraph, with no speaker of its own, goes on
                # with the last speaker's words
                _, speaker, name, medium = last  # type: ignore[misc]
                self._statement(
                    s, sentence.rstrip("。！？"), sentence, False, speaker, name, medium, name, continued=True
                )
                last = (e, speaker, name, medium)
                continue
            last = None
            if m is None or any(a <= s + m.start("content") < b for a, b in taken):
                continue
            chunk = m.group("chunk")
            core = re.split(r"(?:在|向|对|接受)", chunk, maxsplit=1)[0]
            named = (
                core in self.by_label
                or core in ("他", "她")
                or self.known.ids(core)
                or (re.fullmatch(f"[{CJK}]{{2,3}}", core) is not None and core[0] in SURNAMES)
            )
            if not re.search(rf"{_ROLE}|负责人|专家", chunk) and not named:
                continue
            speaker, name, medium = self._speaker(chunk, s)
            content = m.group("content")
            self._statement(s, sentence.rstrip("。！？"), content, False, speaker, name, medium, chunk)
            last = (e, speaker, name, medium)
        for m, chunk, chunk_start, quote in direct:
            speaker, name, medium = self._speaker(chunk, chunk_start)
            self._statement(m.start(), quote, m.group(1), True, speaker, name, medium, chunk)

    def _statement(
        self,
        start: int,
        quote: str,
        content: str,
        direct: bool,
        speaker: str | None,
        name: str,
        medium: str | None,
        chunk: str,
        *,
        continued: bool = False,
    ) -> None:
        kind = "direct quote" if direct else "reported speech"
        if continued:
            kind = "reported speech going on in the next sentence of the paragraph"
        if speaker is None:
            self.proposals.append(
                Proposal(
                    "statement",
                    start,
                    0.4,
                    f"{kind} with no named speaker ('{chunk}'): the model needs a speaker",
                    [quote],
                    commented=True,
                    note=f"statement by {chunk}: {content}",
                )
            )
            return
        props: dict[str, Any] = {"speaker": speaker}
        if medium:
            props["medium"] = medium
        props["text"] = content
        props["isDirectQuote"] = direct
        ident = self._id(f"{speaker}-statement")
        short = content if len(content) <= 24 else content[:24] + "…"
        self.proposals.append(
            Proposal(
                "statement",
                start,
                0.8 if direct else 0.5 if continued else 0.7,
                f"{kind} attributed to {name}",
                [quote],
                ident,
                ("Statement",),
                f"{name}：{short}",
                f"TODO {name}: statement",
                props,
            )
        )

    def find_documents(self) -> None:
        for m in re.finditer(r"《([^》]{2,80})》", self.body):
            title = m.group(1)
            if self.known.ids(title) or title in self.aliases:
                continue  # a known document: find_known links it
            clause = _clause_at(self.body, m.start(), m.end())
            kind = doc_type(title)
            ident = self.entity_for(
                title, "document", m.start(), clause, f"a title in 《》; kind {kind} from its last words", 0.85, (kind,)
            )
            prop = self.by_label.get(title)
            if prop is not None and prop.id == ident and "全文" not in prop.why:
                self._document_dates(prop, m.start(), m.end())
                period = re.search(r"[（(](\d{4})\s*[-—–至]\s*(\d{4})年?[）)]$", title)
                if period:
                    prop.props.update({"validFrom": period.group(1), "validUntil": period.group(2)})
                    prop.why += "; its period from the title"
                alias = re.match(r"[（(](?:下称|以下简称|简称)(《[^》]{1,20}》)[）)]", self.body[m.end() :])
                if alias:
                    prop.props["shortTitle"] = alias.group(1)
                    self.aliases.add(alias.group(1)[1:-1])

    def _document_dates(self, prop: Proposal, start: int, end: int) -> None:
        """Issue and entry-into-force dates said in the document's sentence."""
        for s, e in _sentence_spans(self.body):
            if s <= start < e:
                sentence = self.body[s:e]
                for dm in DATE_RX.finditer(sentence):
                    after = sentence[dm.end() : dm.end() + 6]
                    value = self._date_value(dm)
                    if value is None or self._in_title(s + dm.start()):
                        continue
                    if re.match(r"起?(施行|实施|生效)", after):
                        prop.props.setdefault("entryIntoForce", value)
                        prop.quotes.append(self._quote_around(s + dm.start(), s + dm.end()))
                    elif re.search(r"印发|发布|出台|公布", sentence) and "dateIssued" not in prop.props:
                        prop.props["dateIssued"] = value
                        prop.quotes.append(self._quote_around(s + dm.start(), s + dm.end()))

    def _quote_around(self, start: int, end: int) -> str:
        return _clause_at(self.body, start, end)

    def _date_value(self, m: re.Match[str]) -> Any:
        """A facts-file date: "2026-03" for absolute words, {stated: ...} for relative ones."""
        stated = m.group(0)
        if m.group("abs"):
            nums = [int(x) for x in re.findall(r"\d+", stated)]
            lexical = "-".join([f"{nums[0]:04d}", *(f"{n:02d}" for n in nums[1:])])
            try:
                return parse_date(lexical).lexical
            except DateProblem:
                return None
        try:
            resolved = resolve_relative(stated, self.published)
        except DateProblem:
            return None
        return {"stated": stated} if resolved is not None else None

    def find_events(self) -> None:
        words = "|".join(EVENT_WORDS)
        for s, e in _sentence_spans(self.body):
            sentence = self.body[s:e]
            for m in re.finditer(
                rf"([^，；。、“”]{{2,40}}?(?:{words}))(?:在|于)?([{CJK}]{{2,4}})?(?:举行|召开|举办|开幕)", sentence
            ):
                name = re.sub(r"^(?:\d{1,2}月\d{1,2}日|今年|去年)", "", m.group(1)).strip()
                if name in EVENT_WORDS or self.known.ids(name) or self._in_title(s + m.start()):
                    continue
                same = [p for p in self.proposals if p.kind == "event" and (p.label_zh in name or name in p.label_zh)]
                if same:
                    # the headline and the body name one event twice: one proposal, the longer name
                    name = max(same[0].label_zh, name, key=len)
                    same[0].label_zh = name
                    same[0].label_en = "TODO " + name
                    self.by_label[name] = same[0]
                kind = "Meeting" if name.endswith(("会议", "研讨会")) else "Conference"
                dates = [d for d in DATE_RX.finditer(sentence) if d.group(0) not in ("今年", "明年", "去年")]
                quote = _clause_at(self.body, s + m.start(1), s + m.end())
                ident = self.entity_for(
                    name, "event", s + m.start(), quote, f"'{name}' with 举行/召开; a {kind}", 0.75, (kind,)
                )
                prop = self.by_label.get(name)
                if prop is None or prop.id != ident:
                    continue
                if quote not in prop.quotes:
                    prop.quotes.append(quote)
                where = m.group(2)
                if where and self.event_location:
                    ids = self.known.ids(where)
                    prop.props["location"] = (
                        ids[0]
                        if len(ids) == 1
                        else self.entity_for(
                            where,
                            "place",
                            s + m.start(2),
                            quote,
                            f"where {name} was held",
                            0.6,
                            ("City" if where in PLACES or where.endswith("市") else "Region",),
                        )
                    )
                elif where and where not in prop.why:
                    prop.why += f"; held in {where} (the model has no event place yet)"
                self._organisers(prop, s, e)
                if dates:
                    value = self._date_value(dates[0])
                    if value is not None:
                        prop.props["startDate"] = value
                        prop.quotes.insert(0, self.body[s : s + max(m.end(), dates[0].end())].lstrip("，"))
        # "X12月12日举行扩大会议": the body that meets, the date, then the kind of meeting
        for m in re.finditer(rf"([{CJK}]{{2,12}}?)({DATE_RX.pattern})?举行((?:扩大|全体|专题)?会议)", self.body):
            name = m.group(1) + m.group(m.lastindex or 0)
            if self._in_title(m.start()) or any(p.kind == "event" and p.start == m.start() for p in self.proposals):
                continue
            ident = self.entity_for(
                name,
                "event",
                m.start(),
                _clause_at(self.body, m.start(), m.end()),
                f"'{m.group(1)}' held a {m.group(m.lastindex or 0)}; a Meeting",
                0.6,
                ("Meeting",),
            )
            prop = self.by_label.get(name)
            dm = DATE_RX.search(m.group(0))
            if prop is not None and prop.id == ident and dm:
                value = self._date_value(dm)
                if value is not None:
                    prop.props.update({"startDate": value, "endDate": value})
        # events named without a verb (中央经济工作会议上): proposed at a lower confidence
        for m in re.finditer(rf"[{CJK}]{{2,12}}?(?:工作会议|全体会议|论坛|峰会|博览会|大会)(?!议)", self.body):
            name = re.split(r"的|传达|召开|举行|结束|出席|参加|在|于|上", m.group(0))[-1]
            if len(name) < 5 or self._in_title(m.start()) or self.known.ids(name) or self._covered(m.start(), m.end()):
                continue
            if re.match(r"下一届|上一届|本届|每届|该|此次|这次|这一", name):
                continue  # a reference to an event named elsewhere, not a name
            if any(p.kind == "event" and (name in p.label_zh or p.label_zh in name) for p in self.proposals):
                continue
            kind = "Conference" if name.endswith(("大会", "论坛", "峰会", "博览会")) else "Meeting"
            self.entity_for(
                name,
                "event",
                m.start(),
                _clause_at(self.body, m.start(), m.end()),
                f"an event's name ({kind}); the text does not say it was held here",
                0.5,
                (kind,),
            )

    def _organisers(self, prop: Proposal, start: int, end: int) -> None:
        """由X(与Y)(联合)主办 in the event's sentence or the next: who convened it."""
        window = self.body[start : min(len(self.body), end + 120)]
        m = re.search(rf"由([{CJK}、]{{3,60}}?)(?:联合|共同)?(?:主办|举办|召开|承办)", window)
        if m is None or "convenedBy" in prop.props:
            return
        quote = _clause_at(self.body, start + m.start(), start + m.end())
        ids = []
        for name in re.split("与|和|、", m.group(1)):
            known = self.known.ids(name)
            if len(known) == 1:
                ids.append(known[0])
            elif name.endswith(tuple(ORG_SUFFIXES)):
                why = f"who convened {prop.label_zh} (由…主办)"
                ids.append(self.entity_for(name, "organisation", start + m.start(), quote, why, 0.6, (org_type(name),)))
        if ids:
            prop.props["convenedBy"] = ids[0] if len(ids) == 1 else ids
            prop.quotes.append(quote)

    def find_dates(self) -> None:
        for m in DATE_RX.finditer(self.body):
            if self._in_title(m.start()):
                continue
            value = self._date_value(m)
            stated = m.group(0)
            resolved = resolve_relative(stated, self.published) if isinstance(value, dict) else None
            lexical = resolved.lexical if resolved else value if isinstance(value, str) else None
            if value is None:
                note = f"date '{stated}': not resolvable against {self.published.lexical}; write value: by hand"
                conf = 0.3
            elif isinstance(value, dict):
                res = resolve_relative(stated, self.published)
                against = self.published.lexical
                note = f"date '{stated}' = {res.lexical if res else '?'} (relative, resolved against {against})"
                conf = 0.8
            else:
                note = f"date '{stated}' = {value}"
                conf = 0.9
            before = self.body[max(0, m.start() - 1) : m.start()]
            if before in ("到", "至") or self.body[m.end() : m.end() + 1] == "前":
                note += " (a target date: by then)"
            self.proposals.append(
                Proposal(
                    "date",
                    m.start(),
                    conf,
                    "a date in the text; attach it to the fact it dates",
                    [self._quote_around(m.start(), m.end())],
                    commented=True,
                    note=note,
                    stated=stated,
                    props={"value": lexical} if lexical else {},
                )
            )

    def find_quantities(self) -> None:
        """Numbers with a unit: a Quantity entity when the model has that class, else a comment."""
        for q in find_quantities(self.body):
            if self._in_title(q.start):
                continue
            quote = self._quote_around(q.start, q.start + len(q.stated))
            counts = q.counts or _counted_before(self.body, q.start)
            read = f" (read from {q.numeral})" if not q.numeral[0].isdigit() else ""
            note = f"quantity '{q.stated}' = {q.qualifier + ' ' if q.qualifier else ''}{q.value_text} {q.unit}{read}"
            note += f", counting '{counts}'" if counts else ""
            if not self.quantity_entities:
                self.proposals.append(
                    Proposal(
                        "quantity",
                        q.start,
                        0.7,
                        "a number with its unit or classifier (the model has no Quantity class yet)",
                        [quote],
                        commented=True,
                        note=note,
                        stated=q.stated,
                    )
                )
                continue
            props: dict[str, Any] = {"amount": q.value if q.value != int(q.value) else int(q.value), "unit": q.unit}
            if q.qualifier:
                props["qualifier"] = q.qualifier
            # the model requires what is counted: say what the number measures when nothing is named
            props["counts"] = {"zh": counts or "TODO 所计之物", "en": "TODO " + (counts or "what is counted")}
            # the date it holds at: the last date said before it in its sentence, quoted with it
            sent = next((a for a, b in _sentence_spans(self.body) if a <= q.start < b), q.start)
            dates = [d for d in DATE_RX.finditer(self.body, sent, q.start) if not self._in_title(d.start())]
            value = self._date_value(dates[-1]) if dates else None
            if value is not None:
                props["asOf"] = value
                clause = self.body.find(quote, sent)
                quote = self.body[dates[-1].start() : clause + len(quote)] if clause >= 0 else quote
            label = counts or q.stated
            self.proposals.append(
                Proposal(
                    "quantity",
                    q.start,
                    0.7,
                    f"{note}{read and ''}; a number with its unit or classifier",
                    [quote],
                    self._id("q-" + pinyin_slug(label, 5)),
                    ("Quantity",),
                    label,
                    "TODO " + label,
                    props,
                    stated=q.stated,
                )
            )

    def _token_spans(self) -> list[tuple[int, int, str, str]]:
        out, pos = [], 0
        for word, flag in self.tokens:
            out.append((pos, pos + len(word), word, flag))
            pos += len(word)
        return out

    def find_organisations(self) -> None:
        spans = self._token_spans()
        allowed = {"n", "ns", "nt", "nz", "j", "vn", "nrt", "b", "an", "ng", "l", "t"}
        for i, (s, e, word, flag) in enumerate(spans):
            if not (flag == "nt" or word.endswith(tuple(ORG_SUFFIXES))) or word in ROLES:
                continue
            j = i
            while j > 0 and i - j < 7:
                _, _, pw, pf = spans[j - 1]
                if pf in allowed and pw not in ROLES and not pw.endswith(tuple(ROLES)):
                    j -= 1
                    continue
                if pw in ("与", "和") and j >= 2 and spans[j - 2][3] in allowed and spans[j][3] not in ("ns", "nt"):
                    j -= 1
                    continue
                break
            while j < i and spans[j][2] in ("与", "和"):
                j += 1
            name = self.body[spans[j][0] : e]
            if len(name) < 4 or self._in_title(s) or name in self.by_label or self._jieba_noise(name, spans[j][0], e):
                continue
            if name.endswith("中心") and len(name) < 6:
                continue  # 三大中心, 省域中心: a kind of centre, not an organisation's name
            if self.known.ids(name):
                continue
            self.entity_for(
                name,
                "organisation",
                spans[j][0],
                _clause_at(self.body, spans[j][0], e),
                "words ending in an organisation suffix (jieba segments)",
                0.6,
                (org_type(name),),
            )

    def _covered(self, start: int, end: int) -> bool:
        """Is text[start:end] inside a name already proposed or known (钱塘 in 钱塘科技报)?"""
        for name in [p.label_zh for p in self.proposals if p.label_zh] + list(self.known.by_name):
            if len(name) <= end - start:
                continue
            for m in re.finditer(re.escape(name), self.body):
                if m.start() <= start and end <= m.end():
                    return True
        return False

    def _jieba_noise(self, word: str, start: int, end: int) -> bool:
        return (
            word in NOT_NAMES
            or bool(re.match(r"[\d一二三四五六七八九十两几全各本该]", word))
            or all(ch in PROVINCE_ABBREVIATIONS for ch in word)
            or self._in_title(start)
            or self._covered(start, end)
        )

    def find_people(self) -> None:
        for s, e, word, flag in self._token_spans():
            if flag != "nr" or not 2 <= len(word) <= 3 or word in self.by_label or self.known.ids(word):
                continue
            if self._jieba_noise(word, s, e) or word[0] not in SURNAMES:
                continue
            self.entity_for(
                word, "person", s, _clause_at(self.body, s, e), "jieba tags it a person name (nr)", 0.45, ("Person",)
            )

    def find_places(self) -> None:
        for s, e, word, flag in self._token_spans():
            if (flag != "ns" and word not in PLACES) or len(word) < 2 or word in self.by_label or self.known.ids(word):
                continue
            short = word.removesuffix("市").removesuffix("省")
            if short != word and self.known.ids(short):
                continue
            if self._jieba_noise(word, s, e) or not (word in PLACES or word.endswith(_PLACE_SUFFIX)):
                continue
            kind = "ProvinceLevelDivision" if word.endswith("省") or word in PROVINCES else "City"
            types = ("City", "ProvinceLevelDivision") if word in MUNICIPALITIES else (kind,)
            self.entity_for(
                word,
                "place",
                s,
                _clause_at(self.body, s, e),
                f"a place ({'jieba: ns' if flag == 'ns' else 'a province or large city'}); {kind} guessed",
                0.5,
                types,
            )

    def find_regions(self) -> None:
        """Regions named as one word, provinces named by abbreviation (苏浙皖), and lists of cities."""
        for name in REGIONS:
            for m in re.finditer(re.escape(name), self.body):
                if not self.known.ids(name) and not self._in_title(m.start()):
                    self.entity_for(
                        name,
                        "place",
                        m.start(),
                        _clause_at(self.body, m.start(), m.end()),
                        "a region's name",
                        0.7,
                        ("Region",),
                    )
        for m in re.finditer(f"[{''.join(ABBREVIATIONS)}]{{2,6}}", self.body):
            word = m.group(0)
            if self._in_title(m.start()) or word in REGIONS or len(set(word)) < len(word):
                continue
            for ch in word:
                self.entity_for(
                    ABBREVIATIONS[ch],
                    "place",
                    m.start(),
                    _clause_at(self.body, m.start(), m.end()),
                    f"{ch} in '{word}' abbreviates {ABBREVIATIONS[ch]}",
                    0.6,
                    ("ProvinceLevelDivision",),
                )
        for m in re.finditer(rf"[{CJK}]{{2,4}}(?:、[{CJK}]{{2,4}}){{2,}}", self.body):
            items = m.group(0).split("、")
            items = [i.split("等")[0] for i in items]
            places = [i for i in items if i in PLACES or self.known.ids(i) or i.endswith(_PLACE_SUFFIX)]
            if len(places) * 2 < len(items) or self._in_title(m.start()):
                continue
            quote = _clause_at(self.body, m.start(), m.end())
            for item in items:
                name = item.split("等")[0]
                if not self.known.ids(name) and len(name) <= 3:
                    self.entity_for(name, "place", m.start(), quote, "one of a list of places (、)", 0.6, ("City",))

    def find_known(self) -> None:
        """Mentions of corpus entities, longest name first, each place of the text claimed once."""
        claimed: list[tuple[int, int]] = []
        first: dict[str, tuple[int, int, str]] = {}
        for name in sorted(self.known.by_name, key=lambda n: (-len(n), n)):
            for m in re.finditer(re.escape(name), self.body):
                if any(a < m.end() and m.start() < b for a, b in claimed):
                    continue
                claimed.append((m.start(), m.end()))
                first.setdefault(name, (m.start(), m.end(), name))
        for name, (s, e, _) in sorted(first.items(), key=lambda kv: kv[1]):
            ids = self.known.ids(name)
            quote = _clause_at(self.body, s, e)
            if len(ids) == 1:
                conf = 0.9 if len(name) >= 3 else 0.7
                self.proposals.append(
                    Proposal(
                        "known",
                        s,
                        conf,
                        f"'{name}' is a label of {ids[0]}",
                        [quote],
                        ids[0],
                        commented=True,
                        note=f"link: {ids[0]} ({self.known.labels[ids[0]]})",
                        stated=name,
                    )
                )
            else:
                self.proposals.append(
                    Proposal(
                        "candidate",
                        s,
                        0.4,
                        f"'{name}' names {len(ids)} entities; choose one",
                        [quote],
                        commented=True,
                        note="candidates: " + ", ".join(f"{i} ({self.known.labels[i]})" for i in ids),
                        stated=name,
                    )
                )
