"""URL normalisation, outlet identity and the private-address guard."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.urls import TRACKING_KEYS, TRACKING_PREFIXES, BadURL, normalize_url
from crawler.netguard import PrivateAddressRefused, check_url
from extract.outlets import OutletDirectory


@pytest.mark.parametrize("raw, expected", [
    ("https://News.Example.org/a/b?utm_source=rss&utm_medium=x", "https://news.example.org/a/b"),
    ("https://news.example.org/a?id=7&fbclid=abc#comments", "https://news.example.org/a?id=7"),
    ("https://news.example.org:443/a", "https://news.example.org/a"),
    ("http://news.example.org/story?p=12", "http://news.example.org/story?p=12"),
])
def test_normalize_drops_tracking_and_fragments(raw, expected):
    assert normalize_url(raw) == expected


def test_relative_links_resolve_against_the_feed():
    assert normalize_url("/x/y.html", base="https://a.example/feed.xml") == \
        "https://a.example/x/y.html"


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "mailto:a@b.c", "", "   ",
                                 "ftp://a.example/f", "http://"])
def test_links_that_name_no_page_are_refused(raw):
    with pytest.raises(BadURL):
        normalize_url(raw)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/", "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/", "http://192.168.0.1/", "http://[::1]/", "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/",
])
def test_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(PrivateAddressRefused, match="private or loopback"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


def test_public_address_passes():
    check_url("http://8.8.8.8/", allow_private=False)


def test_outlet_prefixes_and_several_domains_are_one_outlet():
    directory = OutletDirectory([("Example News", ["example-news.com", "example.news"])])
    for url in ("https://www.example-news.com/a", "https://m.example-news.com/b",
                "https://amp.example-news.com/c", "https://example.news/d"):
        assert directory.outlet_for(url) == "Example News"
    assert directory.outlet_for("https://www.other.co.uk/x") == "other.co.uk"
    assert directory.outlet_for("https://amp.other.co.uk/y") == "other.co.uk"
    assert directory.outlet_for("https://www.intranet.test/z") == "intranet.test"


def test_the_resolver_refuses_names_of_private_addresses():
    """The connection's own lookup is checked, so a name cannot be re-pointed at a private
    address between the guard's check and the connection (DNS rebinding)."""
    import subprocess
    import sys

    from conftest import ROOT

    code = """
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from twisted.internet import reactor
from crawler.resolver import install
results = []
def check(allow):
    install(reactor, allow_private=allow)
    d = reactor.resolve("localhost")
    d.addCallbacks(lambda a: results.append(("ok", a)),
                   lambda f: results.append(("refused", f.getErrorMessage())))
    return d
check(False).addBoth(lambda _: check(True)).addBoth(lambda _: reactor.stop())
reactor.run()
print(results)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert "('refused', 'DNS lookup failed: localhost resolves to a private" in result.stdout, \
        result.stdout + result.stderr
    assert "('ok', '127.0.0.1')" in result.stdout


# --- queries: every key kept but the trackers; a fixed point ------------------------

@pytest.mark.parametrize("raw, expected", [
    # SPIP: the article is a bare key; articles and briefs are different pages
    ("https://www.site.fr/spip.php?article1342", "https://www.site.fr/spip.php?article1342"),
    ("https://www.site.fr/spip.php?breve1342", "https://www.site.fr/spip.php?breve1342"),
    ("https://www.site.fr/spip.php?page=article&id_article=7",
     "https://www.site.fr/spip.php?id_article=7&page=article"),
    ("http://a.example/news?123", "http://a.example/news?123"),
    ("http://a.example?123", "http://a.example/?123"),
    ("http://a.example/p?a=&b", "http://a.example/p?a=&b"),
    ("http://a.example/p?id=5&&", "http://a.example/p?id=5"),
    ("http://a.example/?", "http://a.example/"),
    # trackers go, whatever their case; other keys stay, also ones courlan dropped
    ("https://a.example/x?utm_source=rss&UTM_Medium=feed&id=3", "https://a.example/x?id=3"),
    ("https://a.example/x?fbclid=IwAR0&gclid=Cj0&msclkid=1&article9",
     "https://a.example/x?article9"),
    ("https://a.example/x?gallery=3&source=wire&global=1&session=2",
     "https://a.example/x?gallery=3&global=1&session=2&source=wire"),
    # fragments, ports, host case
    ("https://a.example/x?article1#comments", "https://a.example/x?article1"),
    ("https://a.example/x#?utm_source=a", "https://a.example/x"),
    ("HTTPS://WWW.A.Example:443/X?Article1", "https://www.a.example/X?Article1"),
    ("http://a.example:80/x", "http://a.example/x"),
    ("http://a.example:8080/x?1", "http://a.example:8080/x?1"),
    # one percent-encoding
    ("http://a.example/p?q=caf%c3%a9&y=%7e&z=%2f&s=a+b%20c",
     "http://a.example/p?q=caf%C3%A9&s=a+b+c&y=~&z=%2F"),
    ("http://a.example/p?q=café", "http://a.example/p?q=caf%C3%A9"),
    ("http://a.example/p?%FF=1", "http://a.example/p?%FF=1"),
    ("http://a.example/p?k=%2B", "http://a.example/p?k=%2B"),
])
def test_queries_keep_every_key_but_trackers(raw, expected):
    once = normalize_url(raw)
    assert once == expected
    assert normalize_url(once) == once


def test_bare_key_queries_stay_distinct():
    urls = {normalize_url(f"https://www.site.fr/spip.php?{kind}{n}")
            for kind in ("article", "breve") for n in range(1, 11)}
    assert len(urls) == 20


_query_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
                      max_size=12)
_query_part = st.one_of(
    _query_text,
    st.tuples(_query_text, _query_text).map("=".join),
    st.sampled_from(["utm_source=x", "fbclid=1", "article12", "123", "%7e=%2f", "a+b=c%20d",
                     "%FF", "=", "&", "%", "%zz", "#", "?"]),
)


@settings(max_examples=400, deadline=None, database=None)
@given(path=st.sampled_from(["", "/", "/spip.php", "/a/../b/", "/%7Euser/x y"]),
       parts=st.lists(_query_part, max_size=6),
       host=st.sampled_from(["a.example", "WWW.A.Example", "a.example:8080", "a.example:80"]))
def test_normalising_is_a_fixed_point(path, parts, host):
    raw = f"http://{host}{path}?{'&'.join(parts)}"
    try:
        once = normalize_url(raw)
    except BadURL:
        return
    assert normalize_url(once) == once, (raw, once)
    assert "utm_source" not in once and "fbclid" not in once
    for part in urlsplit(raw).query.split("&"):  # a plain, non-tracking bare key stays
        tracking = part.lower() in TRACKING_KEYS or part.lower().startswith(TRACKING_PREFIXES)
        if part.isalnum() and part.isascii() and not tracking:
            assert part in urlsplit(once).query.split("&"), (raw, once)
