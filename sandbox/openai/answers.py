"""Deterministic answers: a JSON value valid against a JSON schema, every choice drawn from a
digest of the request's messages, so the same conversation always gets the same answer and a
different one (another profile, another prompt version) a different one.

The schema subset is the one structured outputs use: object (properties, required,
additionalProperties), array (items, minItems, maxItems), string (enum, minLength, maxLength),
integer and number (minimum, maximum), boolean, null, anyOf, $ref into $defs; const. When the
last user message lists items as "id: text" lines, an array of objects with an `id` gets one
item per listed id, in order (a judgement per comment, say)."""

import hashlib
import json
import random
import re
from typing import Any

WORDS = ("travel", "food", "fitness", "fashion", "music", "tech", "beauty", "art", "family",
         "sports", "gaming", "nature", "coffee", "design", "books", "cinema")
CITIES = ("Mumbai", "Delhi", "Bengaluru", "London", "New York", "Sao Paulo", "Jakarta",
          "Lagos", "Paris", "Tokyo", "Mexico City", "Istanbul", "Berlin", "Madrid")
COUNTRIES = ("IN", "US", "GB", "BR", "ID", "NG", "FR", "JP", "MX", "TR", "DE", "ES")
LANGUAGES = ("en", "hi", "pt", "es", "id", "fr", "de", "ja", "tr")


def conversation_digest(messages: list[dict[str, Any]]) -> bytes:
    text = json.dumps([[m.get("role"), m.get("content")] for m in messages], sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class Generator:
    """Instances of one schema; `rng` is seeded from the conversation, `words` come from it."""

    def __init__(self, schema: dict[str, Any], seed: bytes, words: list[str],
                 ids: list[str] | None = None) -> None:
        self.root = schema
        self.rng = random.Random(int.from_bytes(seed, "big"))
        self.words = words or list(WORDS)
        self.ids = ids or []

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        if "$ref" in schema:
            return self.value(self._resolve(schema["$ref"]), name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"] or schema["anyOf"]
            return self.value(self.rng.choice(options), name)
        kind = schema.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        return getattr(self, f"_{kind}")(schema, name)

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def _object(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        return {key: self.value(sub, f"{name}.{key}")
                for key, sub in schema.get("properties", {}).items()}

    def _array(self, schema: dict[str, Any], name: str) -> list[Any]:
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", max(low, 3)))
        items = schema.get("items", {})
        if "$ref" in items:
            items = self._resolve(items["$ref"])
        if self.ids and "id" in items.get("properties", {}):
            return [{**self.value(items, name), "id": ident} for ident in self.ids[:high]]
        return [self.value(items, name) for _ in range(self.rng.randint(low, max(low, high)))]

    def _string(self, schema: dict[str, Any], name: str) -> str:
        """Words of the conversation; a city, country code or language code where the
        property's path names one ("city", "cities.name", "country", "languages")."""
        path = name.lower()
        last = path.rpartition(".")[2]
        if last == "city" or (last == "name" and "cit" in path):
            text = self.rng.choice(CITIES)
        elif last == "country":
            text = self.rng.choice(COUNTRIES)
        elif last.startswith("language"):
            text = self.rng.choice(LANGUAGES)
        else:
            text = " ".join(self.rng.choice(self.words) for _ in range(self.rng.randint(1, 3)))
        low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 200))
        return (text + " " * low)[:max(low, min(high, len(text)))]

    def _number(self, schema: dict[str, Any], name: str) -> float:
        low = float(schema.get("minimum", 0.0))
        high = float(schema.get("maximum", low + 100.0))
        return round(self.rng.uniform(low, high), 2)

    def _integer(self, schema: dict[str, Any], name: str) -> int:
        low = int(schema.get("minimum", 0))
        return self.rng.randint(low, int(schema.get("maximum", low + 100)))

    def _boolean(self, schema: dict[str, Any], name: str) -> bool:
        return self.rng.random() < 0.5

    def _null(self, schema: dict[str, Any], name: str) -> None:
        return None


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]
    return str(users[-1]["content"]) if users else ""


def words_of(messages: list[dict[str, Any]]) -> list[str]:
    """Lower-case words of 4+ letters in the last user message: the answer's vocabulary."""
    return sorted(set(re.findall(r"[a-z]{4,}", _last_user_text(messages).lower())))[:40]


def ids_of(messages: list[dict[str, Any]]) -> list[str]:
    """The ids of "id: text" lines in the first user message (the one that lists the items)."""
    users = [m for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]
    text = str(users[0]["content"]) if users else ""
    return list(dict.fromkeys(re.findall(r"(?m)^\s*([A-Za-z0-9_.-]{1,64}): \S", text)))


def json_answer(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
    """A JSON text valid against `schema` (any JSON object when None)."""
    seed = conversation_digest(messages)
    if schema is None:
        schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    value = Generator(schema, seed, words_of(messages), ids_of(messages)).value(schema)
    return json.dumps(value, ensure_ascii=False)


def text_answer(messages: list[dict[str, Any]]) -> str:
    seed = conversation_digest(messages)
    words = words_of(messages) or list(WORDS)
    rng = random.Random(int.from_bytes(seed, "big"))
    return "Sandbox answer: " + " ".join(rng.choice(words) for _ in range(8)) + "."


def breaking(schema: dict[str, Any] | None) -> str:
    """Valid JSON that the schema refuses: an object missing every property it requires,
    with one it does not know."""
    return json.dumps({"unexpected": True} if schema else ["not", "an", "object"])


def tokens(text: str) -> int:
    """A rough tokenizer's count (about four characters a token), never 0 for text."""
    return max(1, (len(text) + 3) // 4) if text else 0
