"""Search and the stories page at archive scale: N articles (default 1,000,000).

Method: a scratch database is migrated with the project's migrations
(`archive.db.connect`), then filled by COPY (psycopg `cursor.copy`, `--workers`
processes, each with its own connection, each batch one transaction) with N generated
articles: titles of 6-14 words, texts of about 300-900 words (log-normal, median 520);
85% English, 10% Russian, 5% German/French/Spanish/Turkish/Ukrainian/Italian; dates over
three years (ids in date order, as a crawl stores them); 40 outlets with Zipf-like
shares. Words come from a Zipf-like vocabulary per language: real stop words and news
words (inflected: calls/called/phoned, Путин/Путина/Путину, санкции/санкций...) among
synthetic words with real suffixes, so stemming, stop words and ranking do real work.
10% of articles are contact stories (call_status unconfirmed or confirmed) that use a
topical vocabulary (putin, trump, kremlin, "white house", call, phone, peskov, witkoff,
summit, ceasefire, sanctions...) much more, as do 15% of the others (politics); all
contact stories are grouped, in date order, into stories (N*3% stories, N*10%
story_articles rows, a quarter of later articles marked as copies). `--load indexed`
keeps the migrations' indexes during COPY (the realistic path); `--load rebuild` drops
the articles' secondary indexes and builds them again after (two connections). Then
VACUUM ANALYZE (what autovacuum would have done by the time anyone searches).

Measured on a warm cache, each call timed in Python around the library function:
  search   `archive.search.search(conn, make_filters(q, since, until))`, page 1 of 20:
           two words with a 30-day window (the headline, `--queries` times, random
           windows), then for context (`--context-queries` times): two words, no dates;
           one common word; a quoted phrase; two words with a window and count=True.
  stories  `archive.stories.list_stories(conn, limit=50, offset=0)` and a deep page.
The connection is the library's own (`archive.db.connect`: psycopg defaults), so a
query text used 5 times becomes a prepared statement and the server may switch it to a
generic plan; each line says how many generic/custom plans were made. Reported: p50/p95/
max in ms; the share of articles each search word matches; EXPLAIN (ANALYZE, BUFFERS) of
the SQL those functions run (captured from their own calls), as a custom plan and as the
generic plan, for the two headline queries, and the indexes every kind used;
pg_database_size and the largest relations.

    .venv/bin/python bench/search_scale.py [--articles 1000000] [--queries 200]
        [--context-queries 20] [--workers 2] [--load indexed|rebuild] [--raw-page-kb 0]
        [--keep] [--reuse NAME] [--pgdata DIR]

Uses BACKCHANNEL_DATABASE_URL if set (a scratch database is created in it), else an
embedded server (pgserver) in a temporary directory, or in --pgdata DIR (default
<tmp>/backchannel-search-scale with --keep or --reuse, so the server and its data
outlive the run). The scratch database is dropped at the end unless --keep is given;
--reuse NAME measures an existing filled database again (applying any migration added
since: a new index is timed and measured on real data) and leaves it in place. On its own
embedded server only, the bench raises max_wal_size for the load (fewer checkpoints).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.db import connect, migrate  # noqa: E402
from archive.search import SEARCH_DOCUMENT, make_filters, search  # noqa: E402
from archive.stories import list_stories  # noqa: E402

END = datetime(2026, 5, 1, tzinfo=UTC)
START = END - timedelta(days=3 * 365)
CHUNK = 2_000  # articles per COPY transaction
PLAN_WIDTH = 220  # characters of a plan line shown

# ---------------------------------------------------------------------------------------
# Vocabularies. Display forms: the text-search parser lowercases, stems and drops stop
# words itself. Multi-word entries ("White House") come out as adjacent words, so phrase
# queries find them.

EN_TOP = """the of and to a in that is for on was with he it as at by said from his has have
be are an not this but they had who were which their been will would its after also more
one we about says than up out new or there over when all she her can could two into what if
no last so some other only i our them us you these those may while most any such through
during before under between against because both then very where how each just being did
do does should""".split()
# in rank order, each followed by SPREAD synthetic words: the first are common, the
# last (names) in a few percent of articles
EN_NEWS = """year people government president told week state country officials minister
military war security police first time city public report percent group company million
world former leader party national day since foreign international Russia economic
political support Trump court law months news statement according Monday Tuesday
Wednesday Thursday Friday agency region forces Ukraine attack meeting deal power energy
market prices border troops vote election parliament spokesman ministry office plan
policy talks Russian agreement visit called Putin call calls calling Europe European
China Chinese Washington NATO Kyiv American Americans Beijing London Moscow phone
conversation telephone discussed discussing discuss spoke speaking speak confirmed
confirm denied deny denies reported reports sources source official administration
weapons missile missiles drone drones strikes offensive front soldiers prisoners
exchange oil gas tariffs trade economy inflation bank banks budget tax diplomatic
diplomats diplomat interview television briefing reporters journalists press aide aides
adviser advisers Ukrainian Kremlin peace sanctions sanctioned negotiations negotiators
negotiating envoy envoys summit ceasefire truce Zelensky Vladimir Donald Paris Berlin
Brussels Lavrov Rubio Vance Dmitry Steve Sergei Marco Peskov Witkoff""".split()
EN_TOPIC = """Putin Trump Kremlin call said White_House phone talks president Moscow
Washington Ukraine conversation spoke calls telephone phone_call Vladimir_Putin
Donald_Trump Russia Russian American officials Peskov confirmed denied spokesman
Dmitry_Peskov sanctions ceasefire summit envoy Witkoff Steve_Witkoff negotiations
meeting leaders called phoned discussed Zelensky Lavrov Rubio truce peace diplomatic
administration agreement deal briefing reporters Alaska Riyadh Istanbul Geneva Budapest
readout aides contact contacts channel backchannel secret unannounced confirm deny
declined comment hours minutes lasted told TASS Interfax RIA statement spoke_by_phone""".split()
RU_STOP = """и в не на что с по это он как а о к из за для от у же его но она так все было
они её был мы при до только бы уже или если ещё быть также был может когда чем этого
того который которые этот под после тем них ним""".split()
RU_NEWS = """сказал заявил заявила сообщил сообщила сообщает года году год президент
президента министр министра правительство страны страна россии россия российский
российской сша американский американской украины украина киев москва москве москвы
вашингтон вашингтона военные войска переговоры переговоров встреча встречи встречу
саммит саммита санкции санкций санкциями перемирие перемирия звонок звонка звонке
позвонил позвонит разговор разговора разговоре телефонный телефонного телефонному
телефону Путин Путина Путину Путиным Трамп Трампа Трампу Трампом Кремль Кремля Кремле
Песков Пескова Песковым Уиткофф Уиткоффа Лавров Лаврова Зеленский Зеленского Белый_дом
Белого_дома пресс-секретарь представитель подтвердил подтвердила опроверг отказался
комментировать неделе понедельник вторник среду четверг пятницу журналистам агентство
ТАСС Интерфакс РИА источник источники официальный""".split()
RU_TOPIC = """Путин Трамп звонок Кремль разговор Песков Белый_дом телефонный Путина Трампа
заявил переговоры саммит санкции перемирие Уиткофф подтвердил телефонного разговора
звонка позвонил Кремля Трампом Путиным президент президентов США России лидеров
встреча Лавров Ушаков контакт контакты канал опроверг отказался""".split()
OTHER = {  # stop words, news words and suffixes of the synthetic words
    "de": ("der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
           "auch es an werden aus er hat dass sie nach wird bei", "Putin Trump Kreml Telefonat "
           "Gespräch telefoniert Weißen_Haus Sanktionen Waffenruhe Gipfel Peskow Witkoff "
           "Regierung Präsident sagte", ["en", "ung", "er", "lich", "keit", "te", ""]),
    "fr": ("de la le et les des en un du une que est pour qui dans par sur pas au plus ne se "
           "il a ce sont", "Poutine Trump Kremlin appel téléphonique entretien Maison_Blanche "
           "sanctions cessez-le-feu sommet Peskov Witkoff président gouvernement a_déclaré",
           ["ment", "tion", "eur", "ait", "é", "es", ""]),
    "es": ("de la que el en y a los del se las por un para con no una su al lo como más pero "
           "sus le ya o", "Putin Trump Kremlin llamada telefónica conversación Casa_Blanca "
           "sanciones alto_el_fuego cumbre Peskov Witkoff presidente gobierno dijo",
           ["ción", "ado", "ero", "mente", "as", "os", ""]),
    "tr": ("ve bir bu da de için ile çok daha gibi olarak en ama ki sonra kadar", "Putin "
           "Trump Kremlin telefon görüşme Beyaz_Saray yaptırımlar ateşkes zirve Peskov "
           "Witkoff cumhurbaşkanı hükümet açıkladı", ["ler", "lar", "ını", "dan", "mek", ""]),
    "uk": ("і в не на що з за до як це та у він але від так", "Путін Трамп Кремль дзвінок "
           "розмова Білий_дім санкції перемир'я саміт Пєсков Віткофф президент уряд заявив",
           ["ння", "ого", "ати", "ський", "ів", ""]),
    "it": ("di e il la che in a per un del non è una con le si da al sono", "Putin Trump "
           "Cremlino telefonata colloquio Casa_Bianca sanzioni cessate_il_fuoco vertice "
           "Peskov Witkoff presidente governo ha_detto", ["zione", "are", "ato", "mente",
                                                        "i", ""]),
}
LANGUAGES = {"en": 0.85, "ru": 0.10, "de": 0.012, "fr": 0.01, "es": 0.01, "tr": 0.005,
             "uk": 0.008, "it": 0.005}
SPREAD = 12  # synthetic words after each real one in the rank order
EN_SUFFIXES = ["", "", "", "s", "ed", "ing", "er", "ers", "ly", "tion", "ment", "ness"]
RU_SUFFIXES = ["", "а", "ов", "ами", "ого", "ая", "ые", "ить", "ал", "ение", "ский", "ой",
               "ую", "ей"]
OUTLETS = {
    "en": ["Reuters", "Associated Press", "BBC News", "CNN", "The New York Times",
           "The Washington Post", "The Guardian", "Bloomberg", "Politico", "Axios",
           "Fox News", "NBC News", "CBS News", "ABC News", "The Wall Street Journal",
           "Financial Times", "The Times", "The Telegraph", "Newsweek", "The Hill",
           "Al Jazeera", "The Independent", "Sky News", "NPR", "Kyiv Independent",
           "The Moscow Times", "Meduza English", "Euronews"],
    "ru": ["ТАСС", "РИА Новости", "Интерфакс", "Коммерсантъ", "РБК", "Ведомости"],
    "de": ["Deutsche Welle"], "fr": ["Le Monde"], "es": ["El País"], "tr": ["Anadolu Ajansı"],
    "uk": ["Українська правда"], "it": ["ANSA"],
}
EVIDENCE = ["Kremlin spokesman Dmitry Peskov declined to confirm that the two presidents "
            "had spoken by phone.", "The White House did not respond to a request for "
            "comment on the reported call.", "Neither the White House nor the Kremlin has "
            "confirmed the conversation.", "Peskov confirmed that Putin and Trump spoke by "
            "phone on Tuesday.", "Песков не подтвердил телефонный разговор Путина и Трампа."]
WIRES = ["Reuters", "AP", "AFP", None]

# Queries. Inflected forms on purpose: the stemmer must map them to the stored stems.
EN_WORDS = ["putin", "trump", "kremlin", "call", "phone", "peskov", "witkoff", "summit",
            "ceasefire", "sanctions", "talks", "ukraine", "envoy", "conversation", "spoke",
            "calls", "phoned", "sanction", "negotiations", "zelensky", "moscow",
            "washington", "lavrov", "telephone", "confirmed", "denied", "rubio", "truce",
            "leaders", "officials", "readout", "backchannel"]
RU_WORDS = ["путин", "трамп", "кремль", "звонок", "разговор", "песков", "саммит", "санкции",
            "перемирие", "путина", "переговоры", "телефонный", "уиткофф", "лавров"]
TWO_WORDS = ["white house", "putin call", "trump putin", "kremlin phone", "peskov call",
             "witkoff putin", "ceasefire talks", "putin trump call", "sanctions russia"]
COMMON = ["trump", "putin", "said", "president", "russia", "ukraine", "government",
          "officials", "week", "talks"]
PHRASES = ['"white house"', '"phone call"', '"vladimir putin"', '"donald trump"',
           '"steve witkoff"', '"dmitry peskov"', '"spoke by phone"', '"белый дом"',
           '"телефонного разговора"', '"putin said"']


def synthetic(rng: random.Random, count: int, consonants: str, vowels: str,
              suffixes: list[str], taken: set[str]) -> list[str]:
    """`count` new pronounceable words with the language's letters and suffixes."""
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(consonants) + rng.choice(vowels)
                       for _ in range(rng.randint(1, 3)))
        word += (rng.choice(consonants) if rng.random() < 0.5 else "") + rng.choice(suffixes)
        if len(word) >= 3 and word not in taken:
            taken.add(word)
            words.append(word)
    return words


class Vocabulary:
    """One language's words in Zipf rank order (stop words first, then real words among
    synthetic ones, then the synthetic tail), a topical vocabulary for contact and
    politics articles, and the display variants a text needs (capitalised, end of a
    sentence, end of a paragraph), as numpy object arrays indexed by rank."""

    def __init__(self, stop: list[str], real: list[str], topic: list[str], tail: list[str]):
        middle: list[str] = []
        for i, word in enumerate(real):
            middle.append(word)
            middle.extend(tail[SPREAD * i:SPREAD * (i + 1)])
        rest = tail[SPREAD * len(real):]
        words = stop + middle + rest + topic
        self.topic_start = len(stop) + len(middle) + len(rest)
        base = len(words) - len(topic)
        shown = [w.replace("_", " ") for w in words]
        self.plain = np.array(shown, dtype=object)
        self.cap = np.array([w[:1].upper() + w[1:] for w in shown], dtype=object)
        self.dot = np.array([w + "." for w in shown], dtype=object)
        self.para = np.array([w + ".\n\n" for w in shown], dtype=object)
        ranks = np.arange(base, dtype=np.float64)
        self.base_cum = np.cumsum(1.0 / (ranks + 2.7) ** 1.07)
        self.base_cum /= self.base_cum[-1]
        topic_ranks = np.arange(len(topic), dtype=np.float64)
        self.topic_cum = np.cumsum(1.0 / (topic_ranks + 1.5))
        self.topic_cum /= self.topic_cum[-1]

    def draw(self, rng: np.random.Generator, topic_share: np.ndarray) -> np.ndarray:
        """One word rank per element; topic_share: each word's chance of being topical."""
        n = len(topic_share)
        ranks = np.searchsorted(self.base_cum, rng.random(n))
        topical = rng.random(n) < topic_share
        count = int(topical.sum())
        if count:
            ranks[topical] = self.topic_start + np.searchsorted(self.topic_cum,
                                                                rng.random(count))
        return ranks

    def texts(self, rng: np.random.Generator, lengths: np.ndarray, topic: np.ndarray,
              sentence: float = 18.0, paragraph: float = 5.0) -> list[str]:
        """Texts of the given word counts; topic: each text's share of topical words."""
        total = int(lengths.sum())
        ranks = self.draw(rng, np.repeat(topic, lengths))
        ends = np.cumsum(lengths)
        starts = ends - lengths
        words = self.plain[ranks]
        stop = rng.random(total) < 1.0 / sentence
        stop[ends - 1] = True
        para = stop & (rng.random(total) < 1.0 / paragraph)
        para[ends - 1] = False
        capital = np.roll(stop, 1)
        capital[starts] = True
        capital &= ~stop
        words[capital] = self.cap[ranks[capital]]
        words[stop] = self.dot[ranks[stop]]
        words[para] = self.para[ranks[para]]
        flat = words.tolist()
        return [" ".join(flat[s:e]).replace("\n\n ", "\n\n")
                for s, e in zip(starts, ends, strict=True)]

    def titles(self, rng: np.random.Generator, lengths: np.ndarray,
               topic: np.ndarray) -> list[str]:
        ranks = self.draw(rng, np.repeat(topic, lengths))
        ends = np.cumsum(lengths)
        flat = self.plain[ranks]
        flat[ends - lengths] = self.cap[ranks[ends - lengths]]
        flat = flat.tolist()
        return [" ".join(flat[e - n:e]) for e, n in zip(ends, lengths, strict=True)]


def vocabularies(seed: int) -> dict[str, Vocabulary]:
    rng = random.Random(seed)
    latin, cyrillic = "bcdfghjklmnprstvwz", "бвгджзклмнпрстфхцчшщ"
    out = {}
    taken: set[str] = set()
    out["en"] = Vocabulary(EN_TOP, EN_NEWS, EN_TOPIC,
                           synthetic(rng, 50_000, latin, "aeiou", EN_SUFFIXES, taken))
    out["ru"] = Vocabulary(RU_STOP, RU_NEWS, RU_TOPIC,
                           synthetic(rng, 40_000, cyrillic, "аеиоуыяю", RU_SUFFIXES, taken))
    for code, (stop, news, suffixes) in OTHER.items():
        letters = (cyrillic, "аеиоуяюі") if code == "uk" else (latin, "aeiou")
        tail = synthetic(rng, 15_000, *letters, suffixes, taken)
        out[code] = Vocabulary(stop.split(), news.split(), news.split(), tail)
    return out


# ---------------------------------------------------------------------------------------
# The archive's shape, decided up front in the parent (numpy arrays, shared with the
# loaders by fork): each article's time, language, outlet, class and story.


class Plan:
    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed + 1)
        span = (END - START).total_seconds()
        # ids in date order, as a crawl stores them; somewhat more news lately
        self.reported = np.sort(START.timestamp() + span * rng.random(n) ** 0.8)
        self.has_published = rng.random(n) > 0.03
        self.fetch_delay = rng.exponential(1200.0, n)
        codes = list(LANGUAGES)
        shares = np.array(list(LANGUAGES.values()))
        self.language = rng.choice(len(codes), size=n, p=shares / shares.sum())
        self.codes = codes
        self.outlets: list[tuple[str, str]] = [(o, c) for c in codes for o in OUTLETS[c]]
        self.outlet = np.empty(n, dtype=np.int64)
        first = 0
        for li, code in enumerate(codes):
            count = len(OUTLETS[code])
            mine = np.flatnonzero(self.language == li)
            weights = 1.0 / np.arange(1, count + 1) ** 0.8
            self.outlet[mine] = first + rng.choice(count, size=len(mine),
                                                   p=weights / weights.sum())
            first += count
        self.words = np.clip(rng.lognormal(np.log(520), 0.33, n), 120, 3000).astype(np.int64)
        self.title_words = rng.integers(6, 15, n)
        self.contact = rng.random(n) < 0.10
        self.politics = ~self.contact & (rng.random(n) < 0.15)
        # contact stories, in date order, grouped into stories of 1..60 articles (mean 3.3)
        contact = np.flatnonzero(self.contact)
        sizes: list[int] = []
        while sum(sizes) < len(contact):
            big = rng.random() < 0.03
            sizes.append(int(rng.integers(8, 61)) if big else int(rng.geometric(0.42)))
        sizes[-1] -= sum(sizes) - len(contact)
        self.story = np.zeros(n, dtype=np.int64)  # 0: none
        self.story[contact] = np.repeat(np.arange(1, len(sizes) + 1), sizes)
        self.stories = len(sizes)
        confirmed_story = rng.random(len(sizes) + 1) < 0.35
        self.confirmed = self.contact & confirmed_story[self.story] & (rng.random(n) < 0.6)
        first_of = np.zeros(len(sizes) + 1, dtype=np.int64)
        first_of[self.story[contact][::-1]] = contact[::-1]  # earliest article per story
        self.first_of = first_of
        self.copy = self.contact & (rng.random(n) < 0.25)
        self.copy[first_of[1:]] = False


PLAN: Plan | None = None
VOCAB: dict[str, Vocabulary] | None = None
ARGS: argparse.Namespace | None = None

ARTICLE_COLUMNS = ("id", "url", "canonical_url", "outlet_id", "outlet", "source_id", "title",
                   "published_at", "text", "language", "authors", "site_name", "fetched_at",
                   "updated_at", "http_status", "content_type", "raw_page", "content_sha256",
                   "feed_entry_ids", "contact_story", "call_status", "evidence",
                   "classifier_version", "classified_at")
AUTHORS = ["Anna Petrova", "John Smith", "Maria Garcia", "David Brown", "Olga Ivanova",
           "James Wilson", "Sarah Johnson", "Ivan Sidorov", "Emma Davis", "Lucas Martin"]


def article_rows(i0: int, i1: int, seed: int) -> list[tuple]:
    """The COPY rows of articles i0..i1-1 (ids i0+1..i1), the same for the same seed."""
    plan, vocab = PLAN, VOCAB
    rng = np.random.default_rng([seed, i0])
    index = np.arange(i0, i1)
    texts: dict[int, str] = {}
    titles: dict[int, str] = {}
    topic = np.where(plan.contact[index], 0.20, np.where(plan.politics[index], 0.015, 0.0))
    title_topic = np.where(plan.contact[index], 0.5, np.where(plan.politics[index], 0.15,
                                                               0.01))
    for li, code in enumerate(plan.codes):
        mine = np.flatnonzero(plan.language[index] == li)
        if not len(mine):
            continue
        at = index[mine]
        for i, text in zip(at, vocab[code].texts(rng, plan.words[at], topic[mine]),
                           strict=True):
            texts[int(i)] = text
        for i, title in zip(at, vocab[code].titles(rng, plan.title_words[at],
                                                   title_topic[mine]), strict=True):
            titles[int(i)] = title
    page_bytes = ARGS.raw_page_kb * 1024
    rows = []
    for i in range(i0, i1):
        reported = datetime.fromtimestamp(float(plan.reported[i]), UTC)
        published = reported if plan.has_published[i] else None
        fetched = reported + timedelta(seconds=float(plan.fetch_delay[i])) if published \
            else reported
        outlet_id = int(plan.outlet[i]) + 1
        outlet, code = plan.outlets[outlet_id - 1]
        title, text = titles[i], texts[i]
        url = (f"https://www.outlet{outlet_id}.example/{reported:%Y/%m/%d}/"
               f"{'-'.join(title.lower().split()[:6])}-{i + 1}")
        contact = bool(plan.contact[i])
        status = ("confirmed" if plan.confirmed[i] else "unconfirmed") if contact else "none"
        raw_page = os.urandom(page_bytes) if page_bytes else None  # already compressed
        rows.append((
            i + 1, url, None, outlet_id, outlet, outlet_id, title, published, text, code,
            [AUTHORS[i % len(AUTHORS)]], outlet, fetched, fetched, 200,
            "text/html; charset=utf-8", raw_page,
            hashlib.sha256((title + "\n" + text).lower().encode()).hexdigest(), [url],
            contact, status, EVIDENCE[i % len(EVIDENCE)] if contact else None, "7", fetched))
    return rows


_conn: psycopg.Connection | None = None


def _loader_init(url: str) -> None:
    global _conn
    _conn = psycopg.connect(url)
    _conn.execute("SET synchronous_commit = off")
    # larger GIN pending lists, merged with more memory: fewer, cheaper index updates
    _conn.execute("SET gin_pending_list_limit = '64MB'")
    _conn.execute("SET work_mem = '256MB'")
    _conn.commit()


def _load_chunk(bounds: tuple[int, int, int]) -> tuple[int, float, float]:
    i0, i1, seed = bounds
    t0 = time.perf_counter()
    rows = article_rows(i0, i1, seed)
    t1 = time.perf_counter()
    with _conn.cursor() as cur, cur.copy(
            sql.SQL("COPY articles ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, ARTICLE_COLUMNS)))) as copy:
        for row in rows:
            copy.write_row(row)
    _conn.commit()
    return i1 - i0, t1 - t0, time.perf_counter() - t1


def secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(name, definition) of the articles' indexes that back no constraint."""
    rows = conn.execute(
        """SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = 'articles'::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
           ORDER BY pg_relation_size(i.oid) DESC, i.relname""").fetchall()
    return [(r["name"], r["def"]) for r in rows]


def _build_indexes(job: tuple[str, list[str]]) -> list[tuple[str, float]]:
    url, definitions = job
    done = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute("SET max_parallel_maintenance_workers = 0")  # the other one is busy
        for definition in definitions:
            t0 = time.perf_counter()
            conn.execute(definition)
            done.append((definition.split(" ON ")[0].split()[-1], time.perf_counter() - t0))
    return done


def fill(url: str, args: argparse.Namespace, owned_server: bool) -> None:
    global PLAN, VOCAB, ARGS
    t0 = time.perf_counter()
    conn = connect(url)  # migrates
    print(f"migrations applied in {time.perf_counter() - t0:.1f} s")
    if owned_server:
        conn.execute("ALTER SYSTEM SET max_wal_size = '16GB'")
        conn.execute("ALTER SYSTEM SET checkpoint_timeout = '30min'")
        conn.execute("SELECT pg_reload_conf()")
    t0 = time.perf_counter()
    VOCAB = vocabularies(args.seed)
    PLAN = plan = Plan(args.articles, args.seed)
    ARGS = args
    print(f"plan: {args.articles:,} articles, {plan.stories:,} stories, "
          f"{int(plan.contact.sum()):,} in stories; vocabularies and plan in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    with conn.transaction():
        for outlet_id, (name, _) in enumerate(plan.outlets, 1):
            conn.execute("INSERT INTO outlets (id, name, domains) VALUES (%s, %s, %s)",
                         (outlet_id, name, [f"outlet{outlet_id}.example"]))
            conn.execute("INSERT INTO sources (id, outlet_id, kind, url) VALUES (%s, %s, "
                         "'feed', %s)", (outlet_id, outlet_id,
                                         f"https://www.outlet{outlet_id}.example/rss.xml"))
        for table in ("outlets", "sources"):
            conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    dropped: list[tuple[str, str]] = []
    if args.load == "rebuild":
        dropped = secondary_indexes(conn)
        for name, _ in dropped:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        print(f"dropped for the load: {', '.join(n for n, _ in dropped)}")
    started = time.perf_counter()
    chunks = [(i, min(i + CHUNK, args.articles), args.seed)
              for i in range(0, args.articles, CHUNK)]
    done = 0
    gen_time = copy_time = 0.0
    last_report = started
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers, initializer=_loader_init, initargs=(url,)) as pool:
        for count, gen, copy in pool.imap_unordered(_load_chunk, chunks):
            done += count
            gen_time += gen
            copy_time += copy
            now = time.perf_counter()
            if now - last_report > 30 or done == args.articles:
                last_report = now
                rate = done / (now - started)
                print(f"  {done:>9,} articles  {now - started:7.0f} s  {rate:6.0f}/s  "
                      f"eta {(args.articles - done) / rate:5.0f} s  (per worker: generate "
                      f"{gen_time / done * 1e6:.0f} us, COPY {copy_time / done * 1e6:.0f} us "
                      f"an article)", flush=True)
    load = time.perf_counter() - started
    print(f"articles COPY ({args.load}, {args.workers} workers): {load:.0f} s "
          f"({args.articles / load:.0f} articles/s)")
    rebuild = 0.0
    if dropped:
        t0 = time.perf_counter()
        gin = [d for _, d in dropped if "USING gin" in d]
        btree = [d for _, d in dropped if "USING gin" not in d]
        with context.Pool(2) as pool:
            for built in pool.imap_unordered(_build_indexes, [(url, gin), (url, btree)]):
                for name, seconds in built:
                    print(f"  built {name} in {seconds:.0f} s")
        rebuild = time.perf_counter() - t0
        print(f"indexes rebuilt: {rebuild:.0f} s")
    t0 = time.perf_counter()
    load_stories(conn, plan, args.seed)
    stories_time = time.perf_counter() - t0
    print(f"stories and story_articles: {stories_time:.1f} s")
    conn.execute("SELECT setval('articles_id_seq', (SELECT max(id) FROM articles))")
    conn.execute("SELECT setval('stories_id_seq', (SELECT max(id) FROM stories))")
    t0 = time.perf_counter()
    conn.execute("VACUUM (ANALYZE)")
    vacuum = time.perf_counter() - t0
    print(f"VACUUM ANALYZE: {vacuum:.0f} s")
    print(f"fill total: {load + rebuild + stories_time + vacuum:.0f} s "
          f"({(load + rebuild + stories_time + vacuum) / 60:.1f} min)")
    if owned_server:
        conn.execute("ALTER SYSTEM RESET max_wal_size")
        conn.execute("ALTER SYSTEM RESET checkpoint_timeout")
        conn.execute("SELECT pg_reload_conf()")
    conn.close()


def load_stories(conn: psycopg.Connection, plan: Plan, seed: int) -> None:
    rng = np.random.default_rng(seed + 2)
    en = vocabularies(seed)["en"] if VOCAB is None else VOCAB["en"]
    titles = en.titles(rng, rng.integers(6, 15, plan.stories + 1),
                       np.full(plan.stories + 1, 0.5))
    contact = np.flatnonzero(plan.contact)

    def at(i: int) -> datetime:
        seconds = float(plan.reported[i])
        return datetime.fromtimestamp(seconds, UTC)

    last = np.zeros(plan.stories + 1, dtype=np.int64)
    last[plan.story[contact]] = contact  # the latest article per story
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy("COPY stories (id, title, status, first_article_id, first_outlet, "
                      "first_reported_at, created_at, updated_at) FROM STDIN") as copy:
            confirmed = np.zeros(plan.stories + 1, dtype=bool)
            np.logical_or.at(confirmed, plan.story[contact], plan.confirmed[contact])
            for story in range(1, plan.stories + 1):
                first = int(plan.first_of[story])
                copy.write_row((story, titles[story],
                                "confirmed" if confirmed[story] else "unconfirmed",
                                first + 1, plan.outlets[plan.outlet[first]][0], at(first),
                                at(first), at(int(last[story]))))
        with cur.copy("COPY story_articles (story_id, article_id, outlet, joined_at, "
                      "is_copy_of, wire) FROM STDIN") as copy:
            for i in contact:
                story = int(plan.story[i])
                copy_of = int(plan.first_of[story]) + 1 if plan.copy[i] else None
                copy.write_row((story, int(i) + 1, plan.outlets[plan.outlet[i]][0], at(int(i)),
                                copy_of, WIRES[i % len(WIRES)] if copy_of else None))


# ---------------------------------------------------------------------------------------
# Measurement


class Recorder:
    """Stands in for the connection: runs and remembers what the library sends."""

    def __init__(self, conn: psycopg.Connection):
        self.conn, self.calls = conn, []

    def execute(self, query, params=None):
        self.calls.append((query, params))
        return self.conn.execute(query, params)

    def transaction(self):
        return self.conn.transaction()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (f"  {name:<44} n={len(ms):<4} p50 {statistics.median(ms):8.1f} ms  "
            f"p95 {percentile(ms, 95):8.1f} ms  max {max(ms):8.1f} ms")


def timed(call, cases: list) -> list[float]:
    for case in cases[:max(3, len(cases) // 10)]:  # warm-up, not counted
        call(case)
    seconds = []
    for case in cases:
        t0 = time.perf_counter()
        call(case)
        seconds.append(time.perf_counter() - t0)
    return seconds


def month_windows(rng: np.random.Generator, count: int) -> list[tuple[date, date]]:
    """Random 30-day windows (since, until inclusive) within the archive's span."""
    days = (END - START).days - 31
    out = []
    for offset in rng.integers(0, days, count):
        since = (START + timedelta(days=int(offset))).date()
        out.append((since, since + timedelta(days=29)))
    return out


def two_word_queries(rng: np.random.Generator, count: int) -> list[str]:
    out = []
    for _ in range(count):
        r = rng.random()
        if r < 0.15:
            out.append(TWO_WORDS[rng.integers(len(TWO_WORDS))])
        elif r < 0.27:
            a, b = rng.choice(RU_WORDS, 2, replace=False)
            out.append(f"{a} {b}")
        else:
            a, b = rng.choice(EN_WORDS, 2, replace=False)
            out.append(f"{a} {b}")
    return out


def plan_of(conn: psycopg.Connection, call, generic: bool = False,
            ) -> tuple[str, list[str], float]:
    """EXPLAIN (ANALYZE, BUFFERS) of the main (longest) statement `call` sends, after the
    SET LOCALs it sends, with the indexes its plan uses and the execution time in ms.
    generic: the plan PostgreSQL keeps for a prepared statement (psycopg prepares a query
    text from its 5th use on, and after 5 custom plans the server may switch to one
    generic plan for all parameter values)."""
    recorder = Recorder(conn)
    call(recorder)
    texts = [(q.as_string(conn) if isinstance(q, sql.Composable) else q, p)
             for q, p in recorder.calls]
    text, params = max(texts, key=lambda sent: len(sent[0]))
    with conn.transaction():
        for sent, _ in texts:
            if sent.startswith("SET LOCAL"):
                conn.execute(sent)
        return _explain(conn, text, params, generic)


def _explain(conn: psycopg.Connection, text: str, params: dict | None, generic: bool,
             ) -> tuple[str, list[str], float]:
    if generic:
        names: list[str] = []

        def placeholder(match: re.Match) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        conn.execute("PREPARE bench_generic AS " + re.sub(r"%\((\w+)\)s", placeholder, text))
        conn.execute("SET plan_cache_mode = force_generic_plan")
        try:
            rows = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic ({})")
                                .format(sql.SQL(", ").join(sql.Literal(params[n])
                                                           for n in names))).fetchall()
        finally:
            conn.execute("RESET plan_cache_mode")
            conn.execute("DEALLOCATE bench_generic")
    else:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params).fetchall()
    plan = "\n".join(r["QUERY PLAN"] for r in rows)
    used = re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)?"
                      r" (?:using|on) (\S+)", plan)
    executed = re.search(r"Execution Time: ([\d.]+) ms", plan)
    # conditions on the search indexes' expression run to pages: cut for reading
    plan = "\n".join(row if len(row) <= PLAN_WIDTH else row[:PLAN_WIDTH] + " …"
                     for row in plan.splitlines())
    return plan, sorted(set(used)), float(executed.group(1)) if executed else float("nan")



def plans_used(conn: psycopg.Connection) -> tuple[int, int]:
    """Generic and custom plans made so far for this session's prepared statements."""
    row = conn.execute("SELECT coalesce(sum(generic_plans), 0) AS g, "
                       "coalesce(sum(custom_plans), 0) AS c FROM pg_prepared_statements"
                       ).fetchone()
    return int(row["g"]), int(row["c"])


def term_shares(conn: psycopg.Connection) -> str:
    total = conn.execute("SELECT count(*) AS n FROM articles").fetchone()["n"]
    parts = []
    for word in ["putin", "trump", "kremlin", "call", "phone", "peskov", "witkoff", "summit",
                 "ceasefire", "sanctions", "said"]:
        n = conn.execute(f"SELECT count(*) AS n FROM articles a WHERE a.language = 'en' "
                         f"AND {SEARCH_DOCUMENT} @@ to_tsquery('english', %s)",
                         (word,)).fetchone()["n"]
        parts.append(f"{word} {n / total:.1%}")
    return ", ".join(parts) + " (English articles matching, of all)"


def measure(conn: psycopg.Connection, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed + 3)
    counts = conn.execute("SELECT (SELECT count(*) FROM articles) AS articles, "
                          "(SELECT count(*) FROM stories) AS stories, "
                          "(SELECT count(*) FROM story_articles) AS linked").fetchone()
    settings = conn.execute(
        "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) "
        "AS s FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
        "'effective_cache_size', 'random_page_cost', 'jit', 'server_version', "
        "'max_parallel_workers_per_gather')").fetchone()["s"]
    print(f"\n{counts['articles']:,} articles, {counts['stories']:,} stories, "
          f"{counts['linked']:,} story_articles; {settings}")
    print(term_shares(conn))
    n, m = args.queries, args.context_queries
    headline = list(zip(two_word_queries(rng, n), month_windows(rng, n), strict=True))
    kinds = [
        ("two words, 30-day window (headline)", headline,
         lambda c, qw: search(c, make_filters(qw[0], since=qw[1][0], until=qw[1][1]))),
        ("two words, no date filter", two_word_queries(rng, m),
         lambda c, q: search(c, make_filters(q))),
        ("one common word, no date filter", [COMMON[i] for i in rng.integers(0, len(COMMON),
                                                                             m)],
         lambda c, q: search(c, make_filters(q))),
        ("one common word, 30-day window", list(zip(
            [COMMON[i] for i in rng.integers(0, len(COMMON), m)], month_windows(rng, m),
            strict=True)),
         lambda c, qw: search(c, make_filters(qw[0], since=qw[1][0], until=qw[1][1]))),
        ("phrase, no date filter", [PHRASES[i] for i in rng.integers(0, len(PHRASES), m)],
         lambda c, q: search(c, make_filters(q))),
        ("two words, 30-day window, count=True", headline[:m],
         lambda c, qw: search(c, make_filters(qw[0], since=qw[1][0], until=qw[1][1]),
                              count=True)),
    ]
    stories = counts["stories"]
    deep = max(0, stories // 2 // 50 * 50)
    pages = [
        ("stories page 1 (limit 50)", 0),
        (f"stories deep page (offset {deep:,})", deep),
    ]
    print("\nsearch (page 1 of 20, wall time of archive.search.search; plans: generic/custom "
          "plans the server made for psycopg's prepared statements during the timed calls):")
    for name, cases, call in kinds:
        before = plans_used(conn)
        seconds = timed(lambda case, call=call: call(conn, case), cases)
        after = plans_used(conn)
        print(line(name, seconds) + f"  plans {after[0] - before[0]}/{after[1] - before[1]}",
              flush=True)
    print("\nstories page (archive.stories.list_stories):")
    for name, offset in pages:
        before = plans_used(conn)
        seconds = timed(lambda _, offset=offset: list_stories(conn, limit=50, offset=offset),
                        list(range(n)))
        after = plans_used(conn)
        print(line(name, seconds) + f"  plans {after[0] - before[0]}/{after[1] - before[1]}",
              flush=True)

    example_q, example_w = "putin call", (date(2025, 3, 1), date(2025, 3, 30))
    explained = [
        (f"search {example_q!r} {example_w[0]}..{example_w[1]}",
         lambda c: search(c, make_filters(example_q, since=example_w[0], until=example_w[1]))),
        ("list_stories(limit=50, offset=0)", lambda c: list_stories(c, limit=50, offset=0)),
    ]
    context = [
        ("search 'putin call', no date filter", lambda c: search(c, make_filters(example_q))),
        ("search 'trump', no date filter", lambda c: search(c, make_filters("trump"))),
        ("search 'trump' 2025-03-01..2025-03-30", lambda c: search(c, make_filters(
            "trump", since=example_w[0], until=example_w[1]))),
        ("search '\"white house\"', no date filter",
         lambda c: search(c, make_filters('"white house"'))),
        (f"list_stories(limit=50, offset={deep})",
         lambda c: list_stories(c, limit=50, offset=deep)),
    ]
    for title, call in explained:
        for generic in (False, True):
            text, used, ms = plan_of(conn, call, generic)
            kind = "generic plan" if generic else "custom plan"
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) {title}, {kind}:\n{text}\n  indexes used: "
                  f"{', '.join(used) or 'none'}")
    print("\nother plans (custom | generic):")
    for title, call in context:
        _, used, ms = plan_of(conn, call)
        _, used_generic, ms_generic = plan_of(conn, call, generic=True)
        print(f"  {title}: {ms:.1f} ms, {', '.join(used) or 'no index'} | {ms_generic:.1f} ms, "
              f"{', '.join(used_generic) or 'no index'}")
    sizes(conn)


def sizes(conn: psycopg.Connection) -> None:
    size = conn.execute("SELECT pg_database_size(current_database()) AS b").fetchone()["b"]
    print(f"\ndatabase size: {size / 2**30:.2f} GiB")
    rows = conn.execute(
        """SELECT coalesce(t.relname || ' (toast)', c.relname) AS name, c.relkind,
                  pg_relation_size(c.oid) AS bytes
           FROM pg_class c
           LEFT JOIN pg_class t ON t.reltoastrelid = c.oid
           WHERE c.relkind IN ('r', 'i', 't') AND pg_relation_size(c.oid) > 0
             AND (c.relnamespace = 'public'::regnamespace OR t.relnamespace =
                  'public'::regnamespace)
           ORDER BY bytes DESC LIMIT 12""").fetchall()
    for row in rows:
        kind = {"r": "table", "i": "index", "t": "toast"}[row["relkind"]]
        print(f"  {row['name']:<40} {kind:<6} {row['bytes'] / 2**20:10.1f} MiB")
    total = conn.execute(
        "SELECT pg_table_size('articles') AS t, pg_indexes_size('articles') AS i").fetchone()
    print(f"  articles: table with toast {total['t'] / 2**30:.2f} GiB, indexes "
          f"{total['i'] / 2**30:.2f} GiB")


# ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200,
                        help="repetitions of the headline search and of each stories page")
    parser.add_argument("--context-queries", type=int, default=20,
                        help="repetitions of the other search kinds")
    parser.add_argument("--workers", type=int, default=2, help="parallel COPY connections")
    parser.add_argument("--load", choices=["indexed", "rebuild"], default="indexed",
                        help="COPY with the migrations' indexes in place (faster here up to "
                             "200,000 articles and realistic), or drop and rebuild them")
    parser.add_argument("--raw-page-kb", type=int, default=0,
                        help="store this many KB of incompressible raw_page per article "
                             "(0: none; real pages compress to about 20-40 KB)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--reuse", metavar="NAME", help="measure this filled database")
    parser.add_argument("--pgdata", type=Path, help="the embedded server's directory")
    args = parser.parse_args()
    owned = not os.environ.get("BACKCHANNEL_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="backchannel-bench-") as tmp:
        if not owned:
            base = os.environ["BACKCHANNEL_DATABASE_URL"]
        else:
            from archive.embedded import embedded_database_url

            pgdata = args.pgdata
            if pgdata is None:
                persistent = args.keep or args.reuse
                pgdata = (Path(tempfile.gettempdir()) / "backchannel-search-scale"
                          if persistent else Path(tmp) / "pg")
            base = embedded_database_url(pgdata)
            print(f"embedded server in {pgdata}")
        name = args.reuse or f"search_scale_{uuid.uuid4().hex[:8]}"
        url = make_conninfo(base, dbname=name)
        if not args.reuse:
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"scratch database {name} ({'reused' if args.reuse else 'new'}) on "
              f"{conninfo_to_dict(base).get('host')}")
        try:
            if args.reuse:
                conn = connect(url, migrate_now=False)
                t0 = time.perf_counter()
                applied = migrate(conn)
                if applied:
                    conn.execute("ANALYZE")
                    print(f"applied migrations {applied} and ANALYZE in "
                          f"{time.perf_counter() - t0:.0f} s")
                conn.close()
            else:
                fill(url, args, owned)
            conn = connect(url, migrate_now=False)
            measure(conn, args)
            conn.close()
        finally:
            if not (args.keep or args.reuse):
                with psycopg.connect(base, autocommit=True) as admin:
                    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)))
            else:
                print(f"kept: --reuse {name}"
                      + (f" --pgdata {args.pgdata}" if args.pgdata else ""))


if __name__ == "__main__":
    main()
