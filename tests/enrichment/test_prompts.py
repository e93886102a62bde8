"""Prompts are versioned YAML files: each built-in one loads with an answer model made from its
output schema; the newest version wins unless one is asked for; a directory of one's own adds
versions; a schema outside the strict subset is refused when the file is read."""

from pathlib import Path

import pytest
import yaml

from enrichment.flows import ASPECTS
from enrichment.prompts import BUILT_IN, PromptError, load_file, pick, versions

GENDER = "instagram_base_gender"


def write(directory: Path, name: str, version: str, **changes: object) -> Path:
    raw = yaml.safe_load((BUILT_IN / "base_gender.yaml").read_text())
    raw.update({"name": name, "version": version, **changes})
    path = directory / f"{name}-{version}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_every_flow_has_a_built_in_prompt_with_an_answer_model() -> None:
    for _aspect, name in ASPECTS.values():
        prompt = pick(name, [])
        assert prompt.version == "1.0" and {"handle", "bio"} <= prompt.placeholders()
        assert prompt.response_format()["json_schema"]["strict"] is True
        assert set(prompt.answer_model.model_fields) == set(prompt.output["required"])


def test_the_newest_version_wins_and_an_older_one_can_be_asked_for(tmp_path: Path) -> None:
    write(tmp_path, GENDER, "1.10")
    write(tmp_path, GENDER, "1.9")
    assert [p.version for p in versions(GENDER, [tmp_path])] == ["1.10", "1.9", "1.0"]
    assert pick(GENDER, [tmp_path]).version == "1.10"  # numeric, not text, order
    assert pick(GENDER, [tmp_path], "1.0").path.parent == BUILT_IN
    with pytest.raises(PromptError, match=r"version 2.0 \(versions: 1.10, 1.9, 1.0\)"):
        pick(GENDER, [tmp_path], "2.0")


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, GENDER, "3.0", system="first")
    assert load_file(path).system == "first"
    write(tmp_path, GENDER, "3.0", system="second, a longer text")
    assert pick(GENDER, [tmp_path]).system == "second, a longer text"


def test_rendering_fills_placeholders_and_leaves_other_braces() -> None:
    prompt = pick(GENDER, [])
    text = prompt.render({"handle": "ana", "full_name": "Ana", "bio": 'likes {"json": 1}'})
    assert "Handle: ana" in text and 'likes {"json": 1}' in text
    with pytest.raises(PromptError, match="no value for bio"):
        prompt.render({"handle": "ana", "full_name": "Ana"})


@pytest.mark.parametrize(("output", "problem"), [
    ({"type": "array"}, "must be an object"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
     "additionalProperties: false"),
    ({"type": "object", "additionalProperties": False, "required": [],
      "properties": {"a": {"type": "string"}}}, "every property must be required"),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"type": "string", "format": "date", "not": {}}}}, "unsupported"),
])
def test_a_schema_outside_the_strict_subset_is_refused(tmp_path: Path, output: dict[str, object],
                                                       problem: str) -> None:
    if problem == "unsupported":
        output = {**output, "properties": {"a": {"not": {}}}}
    path = write(tmp_path, "broken", "1.0", output=output)
    with pytest.raises(PromptError, match=problem):
        load_file(path)


def test_a_file_missing_a_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: x\nversion: '1'\nsystem: s\nuser: u\n")
    with pytest.raises(PromptError, match="output"):
        load_file(path)
