"""URL normalisation, outlet identity and the private-address guard."""

from __future__ import annotations

import pytest

from core.urls import BadURL, normalize_url
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
