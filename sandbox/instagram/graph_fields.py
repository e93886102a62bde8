"""The Graph API's `fields` syntax: comma-separated names, each with `.modifier(arg)` calls and a
nested `{fields}` list, e.g.

    business_discovery.username(bluebottle){followers_count,media.limit(5).after(QVFI){id}}
"""

from dataclasses import dataclass, field


class FieldSyntax(ValueError):
    """The fields parameter does not parse."""


@dataclass
class FieldSpec:
    name: str
    args: dict[str, str] = field(default_factory=dict)
    children: list["FieldSpec"] | None = None

    def arg_int(self, name: str, default: int) -> int:
        value = self.args.get(name)
        if value is None:
            return default
        if not value.isdigit():
            raise FieldSyntax(f"{name}({value}) is not a number")
        return int(value)


def parse_fields(text: str | None) -> list[FieldSpec]:
    """The fields named in `text` (empty for None or "")."""
    if not text:
        return []
    specs, at = _fields(text, 0)
    if at != len(text):
        raise FieldSyntax(f'Syntax error "Expected end of string instead of "{text[at]}"." '
                          f"at character {at}: {text}")
    return specs


def _fields(text: str, at: int) -> tuple[list[FieldSpec], int]:
    specs: list[FieldSpec] = []
    while True:
        spec, at = _field(text, at)
        specs.append(spec)
        if at < len(text) and text[at] == ",":
            at += 1
            continue
        return specs, at


def _field(text: str, at: int) -> tuple[FieldSpec, int]:
    name, at = _name(text, at)
    spec = FieldSpec(name)
    while at < len(text) and text[at] == ".":
        modifier, at = _name(text, at + 1)
        if at >= len(text) or text[at] != "(":
            raise FieldSyntax(f"expected ( after .{modifier} at character {at}: {text}")
        end = text.find(")", at)
        if end < 0:
            raise FieldSyntax(f"unclosed ( at character {at}: {text}")
        spec.args[modifier] = text[at + 1:end]
        at = end + 1
    if at < len(text) and text[at] == "{":
        spec.children, at = _fields(text, at + 1)
        if at >= len(text) or text[at] != "}":
            raise FieldSyntax(f"expected }} at character {at}: {text}")
        at += 1
    return spec, at


def _name(text: str, at: int) -> tuple[str, int]:
    start = at
    while at < len(text) and (text[at].isalnum() or text[at] == "_"):
        at += 1
    if at == start:
        raise FieldSyntax(f"expected a field name at character {at}: {text}")
    return text[start:at], at
