"""Prompts as versioned YAML files: name, version, system text, user template, output JSON
schema (and optionally temperature). A prompt is picked by name, newest version first, from
the built-in enrichment/prompts/ and ENRICHMENT_PROMPT_DIRS; a result row records the name and
version that produced it, so a prompt change can be re-run and compared with the old answers.

The user template names the profile's data as `{handle}`, `{bio}`, ...; other braces (a JSON
example in the text) are left as they are. Files are parsed again only when they change."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from enrichment.schema_model import SchemaError, model_of

BUILT_IN = Path(__file__).parent / "prompts"
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
VERSION = r"^[0-9]+(\.[0-9]+){0,3}$"


class PromptError(ValueError):
    """A prompt file cannot be used; str() names the file and the problem."""


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    version: str = Field(pattern=VERSION)
    description: str = ""
    system: str = Field(min_length=1)
    user: str = Field(min_length=1)
    temperature: float = Field(default=0.0, ge=0, le=2)
    output: dict[str, Any]


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str
    temperature: float
    output: dict[str, Any]
    answer_model: type[BaseModel]
    path: Path

    @property
    def version_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.user))

    def render(self, values: dict[str, str]) -> str:
        """The user message; PromptError for a placeholder `values` does not fill."""
        missing = self.placeholders() - set(values)
        if missing:
            raise PromptError(f"{self.path.name}: no value for {', '.join(sorted(missing))}")
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], self.user)

    def response_format(self) -> dict[str, Any]:
        return {"type": "json_schema",
                "json_schema": {"name": self.name, "strict": True, "schema": self.output}}


_parsed: dict[Path, tuple[int, Prompt]] = {}


def load_file(path: Path) -> Prompt:
    """One prompt file, parsed and checked (its output schema becomes its answer model)."""
    stamp = path.stat().st_mtime_ns
    cached = _parsed.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        raw = PromptFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        model = model_of(raw.output, raw.name)
    except (yaml.YAMLError, ValueError, SchemaError) as exc:
        raise PromptError(f"{path.name}: {exc}") from None
    prompt = Prompt(raw.name, raw.version, raw.system, raw.user, raw.temperature, raw.output,
                    model, path)
    _parsed[path] = (stamp, prompt)
    return prompt


def versions(name: str, extra_dirs: list[Path]) -> list[Prompt]:
    """Every version of prompt `name`, newest first (a later directory wins a tie)."""
    found: dict[str, Prompt] = {}
    for directory in [BUILT_IN, *extra_dirs]:
        for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
            prompt = load_file(path)
            if prompt.name == name:
                found[prompt.version] = prompt
    return sorted(found.values(), key=lambda p: p.version_key, reverse=True)


def pick(name: str, extra_dirs: list[Path], version: str | None = None) -> Prompt:
    """The newest version of `name`, or the one asked for; PromptError when there is none."""
    found = versions(name, extra_dirs)
    for prompt in found:
        if version is None or prompt.version == version:
            return prompt
    known = ", ".join(p.version for p in found) or "none"
    raise PromptError(f"no prompt {name!r} version {version or 'any'} (versions: {known})")
