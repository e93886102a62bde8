"""Platforms for the redirect-following tests: Instagram's URL recognition as a Platform (the
real one is registered by the instagram package), and a link shortener ("sho.rt", like t.co or
fb.watch) whose every link is a redirect and that maps nothing to the sandbox."""

from urllib.parse import SplitResult

from core.platforms import FollowRedirect, NotALink, Platform
from instagram.urls import HOSTS, resolve, share_url

INSTAGRAM = Platform(name="instagram", hosts=HOSTS, resolve=resolve, share_url=share_url)


def resolve_short(url: SplitResult) -> tuple[str, str]:
    if url.path.strip("/"):
        raise FollowRedirect(url.geturl())
    raise NotALink("sho.rt: a short link has a code")


SHORTENER = Platform(name="shortener", hosts=frozenset({"sho.rt"}), resolve=resolve_short)
