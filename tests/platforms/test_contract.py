"""The registry and the contract's rules: what a platform may declare, how a wrong declaration
or a malformed platform setting is reported, and that declared defaults reach core."""

import dataclasses
from collections.abc import Iterator

import pytest

from core.config import ConfigError, Settings
from core.entities import EntityTable
from core.flows import load_flows
from core.platforms import Platform, get, register, registry, unregister
from core.posttext import CommentThreads, PostText
from core.ratelimit import source_limits
from tests.platforms.toy import PLATFORM as TOY
from tests.platforms.toy import ToySettings


@pytest.fixture
def toy() -> Iterator[Platform]:
    register(TOY)
    try:
        yield TOY
    finally:
        unregister(TOY.name)


def test_installed_platforms_come_from_entry_points() -> None:
    found = registry(Settings())
    assert found["youtube"].api_name == "YOUTUBE"
    assert "toy" not in found


def test_a_registered_platform_joins_the_registry_and_its_flows_load(toy: Platform) -> None:
    assert list(registry(Settings())) == ["assets", "enrichment", "facebook", "instagram",
                                          "toy", "x", "youtube"]
    assert get(Settings(), "TOY") is toy
    assert load_flows(Settings())["refresh_toy_profile"].platform == "TOY"


def test_unknown_names_and_bad_specs_say_what_is_known() -> None:
    with pytest.raises(LookupError, match=r"unknown platform 'tiktok' \(known: ASSETS, "
                                          r"ENRICHMENT, FACEBOOK, INSTAGRAM, X, YOUTUBE\)"):
        get(Settings(), "tiktok")
    with pytest.raises(ConfigError, match="cannot load 'no.such.module:PLATFORM'"):
        registry(Settings(beat_platforms=["no.such.module:PLATFORM"]))
    with pytest.raises(ConfigError, match="names ToySettings, not a Platform"):
        registry(Settings(beat_platforms=["tests.platforms.toy:ToySettings"]))
    assert "toy" in registry(Settings(beat_platforms="tests.platforms.toy:PLATFORM"))


def test_a_platform_name_is_one_lower_case_spelling() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        Platform(name="YouTube")
    with pytest.raises(ValueError, match="hosts without a resolve"):
        Platform(name="nohosts", hosts=frozenset({"a.example"}))


def test_a_post_or_comment_table_is_the_same_table_in_every_declaration() -> None:
    text = PostText(table="toy_post", key="post_id", texts=("text",), published="posted_at",
                    author="author_id", engagement=("likes",))
    threads = CommentThreads(table="toy_comment", key="comment_id", parent="parent_id",
                             post="post_id", likes="likes")
    same = {"post": EntityTable(table="toy_post", key="post_id", metrics=("likes",)),
            "comment": EntityTable(table="toy_comment", key="comment_id", metrics=("likes",))}
    Platform(name="toy", post_text=text, comment_threads=threads, entity_tables=same)
    with pytest.raises(ValueError, match=r"its post table is toy_post.id in entity_tables but "
                                         r"toy_post.post_id in PostText"):
        Platform(name="toy", post_text=text, entity_tables={
            "post": EntityTable(table="toy_post", key="id", metrics=("likes",))})
    with pytest.raises(ValueError, match=r"its comment table is toy_reply.comment_id"):
        Platform(name="toy", comment_threads=threads, entity_tables={
            "comment": EntityTable(table="toy_reply", key="comment_id", metrics=("likes",))})


def test_platform_settings_come_from_their_prefix_and_never_echo_a_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOY_TOKEN", "from-the-environment")
    assert ToySettings.of(Settings()).token == "from-the-environment"
    overridden = Settings(platform_settings={"toy": {"token": "given"}})
    assert ToySettings.of(overridden).token == "given"
    monkeypatch.setenv("YOUTUBE_API_KEYS", '["AIzaSecretSecretSecret", ')
    with pytest.raises(ConfigError) as malformed:
        registry(Settings())["youtube"].platform_settings(Settings())
    assert str(malformed.value).startswith("malformed setting: YOUTUBE_API_KEYS: ")
    assert "AIzaSecret" not in str(malformed.value)


def test_declared_source_limits_apply_unless_source_limits_names_the_source(
        toy: Platform) -> None:
    limited = dataclasses.replace(toy, source_limits={"toy_api": ["5/1s"], "toy_web": ["1/1s"]})
    register(limited)
    limits = source_limits(Settings(source_limits={"toy_web": ["2/1s"]}))
    assert [(x.name, x.limit) for x in limits["toy_api"]] == [("source:toy_api", 5)]
    assert [(x.name, x.limit) for x in limits["toy_web"]] == [("source:toy_web", 2)]
