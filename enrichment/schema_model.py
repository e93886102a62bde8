"""A prompt's output JSON schema as a pydantic model that validates the model's answers.

The schema is written once, in the prompt's YAML: it is sent to the server as the structured
output format and turned into a model here, so the two cannot drift apart. Only the subset of
JSON Schema that OpenAI's strict structured outputs accept is taken, and strictly: every object
names all its properties as required and allows no others, so an answer is either complete or
refused. Anything outside that subset is a SchemaError when the prompt is loaded."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


class SchemaError(ValueError):
    """The prompt's output schema uses something outside the supported subset."""


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def model_of(schema: dict[str, Any], name: str) -> type[BaseModel]:
    """The pydantic model of an object schema (nested objects become nested models)."""
    if schema.get("type") != "object":
        raise SchemaError(f"{name}: the output must be an object")
    return _object(schema, name)


def _object(schema: dict[str, Any], where: str) -> type[BaseModel]:
    properties = schema.get("properties") or {}
    if not properties:
        raise SchemaError(f"{where}: an object needs properties")
    if schema.get("additionalProperties") is not False:
        raise SchemaError(f"{where}: set additionalProperties: false")
    if sorted(schema.get("required", [])) != sorted(properties):
        raise SchemaError(f"{where}: every property must be required")
    fields: dict[str, Any] = {key: (_type(sub, f"{where}.{key}"), ...)
                              for key, sub in properties.items()}
    model: type[BaseModel] = create_model(_model_name(where), __base__=Answer, **fields)
    return model


def _type(schema: dict[str, Any], where: str) -> Any:
    if "enum" in schema:
        values = tuple(schema["enum"])
        if not values or not all(isinstance(v, str) for v in values):
            raise SchemaError(f"{where}: enum values must be strings")
        return Literal[values]
    if "anyOf" in schema:
        options = [_type(sub, where) for sub in schema["anyOf"]]
        union: Any = options[0]
        for option in options[1:]:
            union = union | option
        return union
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, where)
    if kind == "array":
        items = _type(schema.get("items") or {}, f"{where}[]")
        listed: Any = list[items]  # type: ignore[valid-type]
        return Annotated[listed, Field(min_length=schema.get("minItems"),
                                       max_length=schema.get("maxItems"))]
    if kind == "string":
        return Annotated[str, Field(min_length=schema.get("minLength"),
                                    max_length=schema.get("maxLength"))]
    if kind in ("number", "integer"):
        number: Any = float if kind == "number" else int
        return Annotated[number, Field(ge=schema.get("minimum"), le=schema.get("maximum"))]
    if kind == "boolean":
        return bool
    if kind == "null":
        return type(None)
    raise SchemaError(f"{where}: unsupported schema {sorted(schema)}")


def _model_name(where: str) -> str:
    return "".join(part.title() for part in where.replace("[]", "_item").replace(".", "_")
                   .split("_")) or "Answer"
