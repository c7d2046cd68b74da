"""The schema of the pinned Stripe API version, read from the pinned stripe-python's resource classes.

stripe-python is generated from Stripe's OpenAPI description of one API version (16.1.0 pins
``2026-10-28.endive``), and each resource class carries that version's fields as annotations:

* a non-``Optional`` annotation is a field every object has, never null (``required``);
  ``Optional[...]`` is a field that may be null or absent;
* ``Literal[...]`` (alone, or ``Union[Literal[...], str]``, an enum the SDK keeps open for later
  versions) is the closed set of values of the pinned version;
* ``ExpandableField[X]`` (``Union[str, X]``) is an id or the expanded object; ``ListObject[X]``
  is Stripe's list envelope; ``UntypedStripeObject[T]`` is a free map (metadata) of ``T``;
  nested ``StripeObject`` classes are the nested shapes.

No internet is needed and nothing is kept as test data: the schema is built at test time from
the installed package, and ``PINNED_SDK`` / ``PINNED_API_VERSION`` are asserted against it (a
new stripe-python means a new schema, deliberately noticed). ``problems(body)`` checks one JSON
body (a response or an event) against it and returns what is wrong, first wrong field first.
"""

from __future__ import annotations

import ast
import decimal
import functools
import importlib
import inspect
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any, ForwardRef, Literal, Union

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject, UntypedStripeObject

PINNED_SDK = "16.1.0"
PINNED_API_VERSION = "2026-10-28.endive"

# Attributes of the StripeObject machinery that are annotated on resource classes but are no fields.
_NOT_FIELDS = {"OBJECT_NAME"}


@dataclass(frozen=True)
class Field:
    name: str
    required: bool  # non-Optional: always present, never null
    type: Any  # the annotation with ForwardRefs resolved, Optional stripped


def pinned() -> tuple[str, str]:
    """(the installed stripe-python version, the API version it pins)."""
    return stripe.VERSION, stripe.api_version


def object_class(object_name: str) -> type[StripeObject]:
    """The resource class for an ``object`` value (``"subscription"``, ``"billing.meter"``...)."""
    if object_name not in OBJECT_CLASSES:
        raise KeyError(f"{object_name!r} is no object of the pinned API")
    module, name = OBJECT_CLASSES[object_name]
    cls: type[StripeObject] = getattr(importlib.import_module(module), name)
    return cls


@functools.cache
def _imported_names(module_name: str) -> dict[str, tuple[str, str]]:
    """``alias -> (module, name)`` for every ``from stripe... import name as alias`` in a
    module (the classes a string annotation names sit behind ``if TYPE_CHECKING:``)."""
    tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    return {
        alias.asname or alias.name: (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe")
        for alias in node.names
    }


def _resolve(ref: str, owner: type) -> Any:
    """A string annotation in ``owner``'s module: a class there, or one it imports for typing."""
    module = sys.modules[owner.__module__]
    if hasattr(module, ref):
        return getattr(module, ref)
    source = _imported_names(owner.__module__).get(ref)
    if source is None:
        raise LookupError(f"{owner.__qualname__}: cannot resolve {ref!r}")
    return getattr(importlib.import_module(source[0]), source[1])


def _resolved(annotation: Any, owner: type) -> Any:
    """``annotation`` with every ForwardRef (string) replaced by the class it names."""
    if isinstance(annotation, str):
        return _resolve(annotation, owner)
    if isinstance(annotation, ForwardRef):
        return _resolve(annotation.__forward_arg__, owner)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is None or not args or origin is Literal:
        return annotation
    resolved = tuple(_resolved(arg, owner) for arg in args)
    if origin in (Union, types.UnionType):
        return Union[resolved]  # noqa: UP007 - rebuilt from parts
    return typing.cast(Any, origin)[resolved]


@functools.cache
def fields(cls: type) -> dict[str, Field]:
    """The fields of a resource or nested class of the pinned version."""
    found: dict[str, Field] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, StripeObject)) or klass is StripeObject:
            continue
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if name in _NOT_FIELDS or typing.get_origin(annotation) is typing.ClassVar:
                continue
            resolved = _resolved(annotation, klass)
            optional = typing.get_origin(resolved) is Union and type(None) in typing.get_args(resolved)
            if optional:
                rest = tuple(a for a in typing.get_args(resolved) if a is not type(None))
                resolved = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007
            found[name] = Field(name, not optional, resolved)
    return found


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, StripeObject) and not issubclass(tp, UntypedStripeObject)


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if _is_model(tp):
        return str(tp.__qualname__)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _enum(tp: Any) -> tuple[Any, ...] | None:
    """The closed values of a Literal, or of ``Union[Literal[...], str]`` (an open SDK enum
    whose pinned values are the Literal's)."""
    if typing.get_origin(tp) is Literal:
        return typing.get_args(tp)
    if typing.get_origin(tp) is Union:
        args = typing.get_args(tp)
        literals = [a for a in args if typing.get_origin(a) is Literal]
        if len(literals) == 1 and set(args) - set(literals) == {str}:
            return typing.get_args(literals[0])
    return None


def check(value: Any, tp: Any, path: str) -> list[str]:
    """What is wrong with ``value`` as a ``tp`` at ``path`` (``[]``: nothing)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    enum = _enum(tp)
    if tp is Any:
        return []
    if enum is not None:
        return [] if value in enum else [f"{path}: {value!r} is not one of {list(enum)}"]
    if origin is Union:
        tried = [check(value, arm, path) for arm in args]
        if any(not found for found in tried):
            return []
        # The arm of the right kind says most (an expanded object, not "not a str").
        best = min(tried, key=lambda found: (found[0].endswith("is not a str"), len(found)))
        return best
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a bool"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an int"]
    if tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{path}: {value!r} is not a str"]
    if tp is decimal.Decimal:  # Stripe's decimal_string: a number written as a string
        try:
            ok = isinstance(value, str) and decimal.Decimal(value).is_finite()
        except decimal.InvalidOperation:
            ok = False
        return [] if ok else [f"{path}: {value!r} is not a decimal string"]
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's spelling
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} is not a list"]
        return [p for i, item in enumerate(value) for p in check(item, args[0], f"{path}[{i}]")]
    if origin in (dict, typing.Dict) or tp is dict:  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{path}: {type(value).__name__} is not an object"]
    if isinstance(origin, type) and issubclass(origin, UntypedStripeObject):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} is not a map"]
        return [p for k, v in value.items() for p in check(v, args[0] if args else Any, f"{path}.{k}")]
    if (isinstance(origin, type) and issubclass(origin, ListObject)) or tp is ListObject:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} is not a list object"]
        found = check_object(value, ListObject, path, item=args[0] if args else Any)
        return found
    if _is_model(tp):
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not a {tp.__qualname__} object"]
        return check_object(value, tp, path)
    raise TypeError(f"{path}: no check for the annotation {tp!r}")


def check_object(body: dict[str, Any], cls: type, path: str, item: Any = None) -> list[str]:
    """Every required field present and not null, every present field of its type, and no
    field the pinned version does not have (a removed field means an old shape)."""
    spec = fields(cls)
    found: list[str] = []
    # stripe-python's ListObject is written by hand (data, has_more, url); Stripe's list
    # envelope also always carries ``object: "list"`` (and no ``total_count`` any more).
    if cls is ListObject and body.get("object") != "list":
        found.append(f"{path}.object: {body.get('object')!r}, not 'list'")
    for name, field in spec.items():
        where = f"{path}.{name}"
        if name not in body:
            if field.required:
                found.append(f"{where}: missing (required: {_describe(field.type)})")
            continue
        value = body[name]
        if value is None:
            if field.required:
                found.append(f"{where}: null (required: {_describe(field.type)})")
            continue
        tp = field.type
        if cls is ListObject and name == "data":
            tp = types.GenericAlias(list, item if item is not None else Any)
        found += check(value, tp, where)
    for name in body:
        if name not in spec and not (cls is ListObject and name == "object"):
            found.append(f"{path}.{name}: not a field of {cls.__qualname__} in {PINNED_API_VERSION}")
    return found


def problems(body: Any, label: str = "") -> list[str]:
    """What is wrong with one response or event body, by its ``object``; an event's
    ``data.object`` is checked as the resource it names too."""
    if not isinstance(body, dict) or not isinstance(body.get("object"), str):
        return [f"{label}: no Stripe object (no 'object' field)"]
    name = body["object"]
    where = label or name
    if name == "list":
        found = check_object(body, ListObject, where, item=Any)
        for i, row in enumerate(body.get("data") or []):
            found += problems(row, f"{where}.data[{i}]")
        return found
    try:
        cls = object_class(name)
    except KeyError as exc:
        return [f"{where}.object: {exc.args[0]}"]
    found = check_object(body, cls, where)
    if name == "event":
        if body.get("api_version") != PINNED_API_VERSION:
            found.append(f"{where}.api_version: {body.get('api_version')!r}, not {PINNED_API_VERSION!r}")
        inner = (body.get("data") or {}).get("object")
        if isinstance(inner, dict):
            found += problems(inner, f"{where}.data.object")
    return found


def field_at(root: str, dotted: str) -> Field:
    """The field at a path such as ``items.data[].price.recurring.meter`` from the resource
    ``root`` (``"subscription"``); KeyError naming the first segment the schema lacks."""
    tp: Any = object_class(root)
    walked = root
    field: Field | None = None
    for segment in dotted.split("."):
        name, many = (segment[:-2], True) if segment.endswith("[]") else (segment, False)
        tp = _unwrap(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if (isinstance(origin, type) and issubclass(origin, ListObject)) or tp is ListObject:
            spec = fields(ListObject)
            if name == "data":
                field = Field("data", True, types.GenericAlias(list, args[0] if args else Any))
                tp = field.type
                walked += f".{segment}"
                tp = typing.get_args(tp)[0] if many else tp
                continue
        elif isinstance(origin, type) and issubclass(origin, UntypedStripeObject):
            return Field(name, False, args[0] if args else Any)  # a free map: any key
        elif _is_model(tp):
            spec = fields(tp)
        else:
            raise KeyError(f"{walked} is a {_describe(tp)}: it has no field {name!r}")
        if name not in spec:
            raise KeyError(f"{walked} has no field {name!r} in {PINNED_API_VERSION}")
        field = spec[name]
        tp = field.type
        if many:
            tp = _unwrap(tp)
            tp = typing.get_args(tp)[0] if typing.get_origin(tp) in (list, typing.List) else tp  # noqa: UP006
        walked += f".{segment}"
    assert field is not None
    return field


def _unwrap(tp: Any) -> Any:
    """An expandable ``Union[str, X]``: ``X`` (a path walks into the expanded object)."""
    if typing.get_origin(tp) is Union:
        models = [a for a in typing.get_args(tp) if a is not str]
        if len(models) == 1:
            return models[0]
    return tp


def example(cls: type) -> dict[str, Any]:
    """The smallest object of ``cls`` the pinned version allows: every required field, with the
    first enum value or a zero value (a check of the checker, and a starting point for fakes)."""
    return {name: _example(f.type) for name, f in fields(cls).items() if f.required}


def _example(tp: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    enum = _enum(tp)
    if enum is not None:
        return enum[0]
    if origin is Union:
        return "id_example" if str in args else _example(args[0])
    if (isinstance(origin, type) and issubclass(origin, ListObject)) or tp is ListObject:
        return {"object": "list", "data": [], "has_more": False, "url": "/v1/example"}
    if (isinstance(origin, type) and issubclass(origin, UntypedStripeObject)) or tp is Any:
        return {}
    if origin in (list, typing.List):  # noqa: UP006
        return []
    if _is_model(tp):
        return example(tp)
    return {bool: False, int: 0, float: 0.0, str: "example", decimal.Decimal: "0", dict: {}}.get(tp, {})


def recorded_problems(lines: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(where, its problems) for each wrong body in the local Stripe's recording
    (``STRIPE_STANDIN_RECORD``: ``{"source", "method", "path", "body"}`` a line). The stand-in's
    own pages and test helpers (paths outside ``/v1/``) are no Stripe API and are skipped."""
    wrong = []
    for line in lines:
        if line["source"] == "response" and not str(line["path"]).startswith("/v1/"):
            continue
        found = problems(line["body"])
        if found:
            wrong.append((f"{line['source']} {line['method']} {line['path']}", found))
    return wrong


def first_wrong(wrong: list[tuple[str, list[str]]], total: int) -> str:
    """A failure message: the first wrong field, then the first of each other wrong body."""
    where, found = wrong[0]
    others = "\n".join(f"  {w}: {f[0]} (+{len(f) - 1})" for w, f in wrong[1:8])
    return f"{where}: {found[0]}\n{len(wrong)} of {total} bodies are wrong; the first of each:\n{others}"


# Every resource the product creates, reads or receives from Stripe (stripe-events.md, the adapter).
PRODUCT_OBJECTS = {
    "customer",
    "product",
    "price",
    "billing.meter",
    "billing.meter_event",
    "checkout.session",
    "billing_portal.session",
    "subscription",
    "invoice",
    "customer_balance_transaction",
    "event",
}
