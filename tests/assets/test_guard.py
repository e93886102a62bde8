"""The SSRF guard refuses every address that is not public, in every spelling, before any
connection; names are judged by every address they resolve to; the allowlist lets exactly the
listed address and port through."""

import ipaddress

import pytest

from assets.guard import Allowlist, Guard, Refused, Resolver, numeric_host, why_not_public


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.1.2.3:8080/x.jpg", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://localhost:5432/", "localhost (127.0.0.1): loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://10.255.1.2/img.png", "private"),
    ("http://172.16.0.9/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
    ("http://[fd00:ec2::254]/latest/", "cloud metadata address"),
    ("http://100.100.100.200/", "cloud metadata address"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.251/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://100.64.0.1/", "non-public"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::ffff:127.0.0.1]/", "loopback address (as 127.0.0.1 inside"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata address (as 169.254.169.254"),
    ("http://[::ffff:10.0.0.1]/", "private address (as 10.0.0.1"),
    ("http://[2002:7f00:1::]/", "loopback address (as 127.0.0.1"),
    ("http://[64:ff9b::a9fe:a9fe]/", "cloud metadata address (as 169.254.169.254"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f000001/", "loopback"),  # hex
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://0x7f.1/", "loopback"),  # mixed short form
    ("http://127.1/", "loopback"),
    ("http://3232235777/", "private"),  # 192.168.1.1
    ("http://0xa9.0xfe.0xa9.0xfe/", "cloud metadata address"),
    ("http://127.0.0.1./", "loopback"),  # trailing dot
])
async def test_non_public_addresses_are_refused_in_every_spelling(url: str, reason: str) -> None:
    with pytest.raises(Refused, match="refused") as refused:
        await Guard().check(url)
    assert reason in str(refused.value)


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/a.jpg", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "only http and https"),
    ("http:///a.jpg", "no host"),
    ("http://user:secret@example.com/a.jpg", "carries credentials"),
    ("http://example.com:99999/", "not a valid URL"),
    ("http://0x/", "not a valid address"),
])
async def test_urls_that_are_not_plain_http_are_refused(url: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        await Guard().check(url)


async def test_a_public_address_passes_and_is_where_the_connection_goes() -> None:
    target = await Guard().check("https://93.184.215.14/p/a.jpg?s=1#frag")
    assert target.connect_url == "https://93.184.215.14:443/p/a.jpg?s=1"
    assert target.host_header == "93.184.215.14"


async def test_a_name_is_checked_by_its_address_and_connected_to_at_that_address() -> None:
    guard = Guard(resolver=Resolver({"cdn.example.com": "203.0.113.7"}))
    with pytest.raises(Refused, match=r"cdn.example.com \(203.0.113.7\): private"):
        await guard.check("http://cdn.example.com/a.jpg")  # documentation range: not global
    public = Guard(resolver=Resolver({"cdn.example.com": "8.8.4.4"}))
    target = await public.check("http://cdn.example.com:8080/a.jpg")
    assert (target.connect_url, target.host_header) == ("http://8.8.4.4:8080/a.jpg",
                                                        "cdn.example.com:8080")


class TwoAnswers(Resolver):
    """A name with a public and a private address (round-robin DNS, or a rebinding trick)."""

    async def resolve(self, host: str, port: int) -> list[ipaddress.IPv4Address |
                                                           ipaddress.IPv6Address]:
        return [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.3")]


async def test_a_name_with_any_private_address_is_refused() -> None:
    with pytest.raises(Refused, match=r"10.0.0.3\): private"):
        await Guard(resolver=TwoAnswers()).check("http://mixed.example.com/")


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(Refused, match="does not resolve"):
        await Guard().check("http://no-such-host.invalid/a.jpg")


async def test_the_allowlist_lets_through_exactly_the_address_and_port_listed() -> None:
    guard = Guard(Allowlist(["127.0.0.1:8901", "[::1]:8902", "10.20.0.0/16"]))
    assert (await guard.check("http://127.0.0.1:8901/a.jpg")).port == 8901
    assert (await guard.check("http://[::1]:8902/a.jpg")).port == 8902
    assert (await guard.check("http://10.20.3.4/a.jpg")).port == 80
    for url in ("http://127.0.0.1:8900/", "http://127.0.0.1/", "http://[::1]:8901/",
                "http://10.21.0.1/", "http://169.254.169.254/"):
        with pytest.raises(Refused):
            await guard.check(url)


def test_a_malformed_allowlist_entry_says_what_it_takes() -> None:
    with pytest.raises(ValueError, match="ADDRESS:PORT or a network"):
        Allowlist(["localhost:80"])


def test_numeric_hosts_are_read_as_inet_aton_reads_them() -> None:
    assert numeric_host("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert numeric_host("0x7f.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert numeric_host("010.1") == ipaddress.ip_address("8.0.0.1")
    assert numeric_host("example.com") is None
    assert numeric_host("1e100.net") is None
    assert why_not_public(ipaddress.ip_address("1.1.1.1")) is None
