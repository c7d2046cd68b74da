"""Laravel-style validation rules of blueprint variables (``required|string|max:20``).

Eggs carry the rules Pterodactyl's panel enforces with Laravel's validator. ``parse_rules``
turns a rule string into ``Rule`` values and refuses any rule this panel cannot enforce
(``UnsupportedRuleError`` names it), so an import never accepts a rule that would be
silently ignored. ``check_value`` applies parsed rules to one environment value and
returns the failures as readable messages.

Semantics follow Laravel for string input (environment values arrive as strings):

* an empty value counts as absent; ``nullable`` (or the absence of ``required``) lets an
  absent value pass every other rule, ``required`` fails it;
* ``min``/``max``/``between``/``size`` compare numbers when ``integer`` or ``numeric`` is
  among the rules, otherwise the length in characters;
* ``regex:/…/flags`` keeps its ``|`` characters (the split skips the pattern's delimiters).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from mamba.domain.errors import ValidationError


class UnsupportedRuleError(ValidationError):
    """A rule the panel does not understand (or a malformed one); the message names it."""


# Every variable value is capped (the blueprint may raise the cap up to VALUE_MAX_LIMIT): a
# value travels into the server's environment, the Wings configuration and every server read.
VALUE_MAX_DEFAULT = 1024
VALUE_MAX_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Rule:
    name: str
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}:{','.join(self.args)}" if self.args else self.name


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    pattern_cache: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def has(self, name: str) -> bool:
        return any(r.name == name for r in self.rules)

    @property
    def numeric(self) -> bool:
        return self.has("integer") or self.has("numeric")


# name → (minimum args, maximum args); -1 = any number
ARITY: dict[str, tuple[int, int]] = {
    "required": (0, 0),
    "nullable": (0, 0),
    "sometimes": (0, 0),
    "present": (0, 0),
    "filled": (0, 0),
    "string": (0, 0),
    "integer": (0, 1),  # Laravel 10 accepts integer:strict
    "numeric": (0, 1),
    "boolean": (0, 1),
    "accepted": (0, 0),
    "declined": (0, 0),
    "alpha": (0, 1),
    "alpha_num": (0, 1),
    "alpha_dash": (0, 1),
    "ascii": (0, 0),
    "lowercase": (0, 0),
    "uppercase": (0, 0),
    "url": (0, -1),
    "active_url": (0, 0),
    "email": (0, -1),
    "ip": (0, 0),
    "ipv4": (0, 0),
    "ipv6": (0, 0),
    "uuid": (0, 0),
    "json": (0, 0),
    "timezone": (0, -1),
    "hex_color": (0, 0),
    "mac_address": (0, 0),
    "min": (1, 1),
    "max": (1, 1),
    "size": (1, 1),
    "between": (2, 2),
    "gt": (1, 1),
    "gte": (1, 1),
    "lt": (1, 1),
    "lte": (1, 1),
    "digits": (1, 1),
    "digits_between": (2, 2),
    "min_digits": (1, 1),
    "max_digits": (1, 1),
    "in": (1, -1),
    "not_in": (1, -1),
    "starts_with": (1, -1),
    "ends_with": (1, -1),
    "doesnt_start_with": (1, -1),
    "doesnt_end_with": (1, -1),
    "regex": (1, 1),
    "not_regex": (1, 1),
    "bail": (0, 0),
}

NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
INTEGER = re.compile(r"^[+-]?\d+$")
_PCRE_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0, "D": 0}


def split_rules(text: str) -> list[str]:
    """Split on ``|`` except inside a ``regex:``/``not_regex:`` pattern's delimiters."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        rest = text[i:]
        head = next((p for p in ("regex:", "not_regex:") if rest.startswith(p)), None)
        if head and len(rest) > len(head):
            delimiter = _closing(rest[len(head)])
            j = len(head) + 1
            while j < len(rest) and not (rest[j] == delimiter and rest[j - 1] != "\\"):
                j += 1
            end = rest.find("|", j + 1)
        else:
            end = rest.find("|")
        chunk = rest if end < 0 else rest[:end]
        parts.append(chunk)
        i += len(chunk) + 1
    return [p.strip() for p in parts if p.strip()]


def _closing(opening: str) -> str:
    return {"(": ")", "[": "]", "{": "}", "<": ">"}.get(opening, opening)


def compile_pattern(spec: str) -> re.Pattern[str]:
    """A PHP ``/pattern/flags`` as a Python pattern; UnsupportedRuleError if it cannot be used."""
    if len(spec) < 2 or spec[0].isalnum() or spec[0] in "\\ ":
        raise _unsupported(f"regex:{spec}", "the pattern needs delimiters such as /…/")
    closing = _closing(spec[0])
    end = spec.rfind(closing)
    if end <= 0:
        raise _unsupported(f"regex:{spec}", "the pattern is not closed")
    body, flags_text = spec[1:end], spec[end + 1 :]
    flags = 0
    for flag in flags_text:
        if flag not in _PCRE_FLAGS:
            raise _unsupported(f"regex:{spec}", f"unknown pattern flag {flag!r}")
        flags |= _PCRE_FLAGS[flag]
    # PCRE spellings Python's re does not know.
    body = (
        body.replace("\\A", "^")
        .replace("\\z", "$")
        .replace("\\Z", "$")
        .replace("(?<", "(?P<")
        .replace("(?P<=", "(?<=")
        .replace("(?P<!", "(?<!")
    )
    try:
        return re.compile(body, flags)
    except re.error as exc:
        raise _unsupported(f"regex:{spec}", f"the pattern does not compile ({exc})") from exc


def parse_rules(text: str | list[str] | None) -> Rules:
    """Parse a rule string (or a list of rules). Raises UnsupportedRuleError naming the rule."""
    if text is None:
        return Rules(())
    pieces = split_rules(text) if isinstance(text, str) else [str(p).strip() for p in text if str(p).strip()]
    rules: list[Rule] = []
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for piece in pieces:
        name, _, raw = piece.partition(":")
        name = name.strip().lower()
        if name not in ARITY:
            raise _unsupported(piece, f"the rule {name!r} is not supported")
        if name in ("regex", "not_regex"):
            args: tuple[str, ...] = (raw,) if raw else ()
        else:
            args = tuple(a.strip() for a in raw.split(",")) if raw else ()
        low, high = ARITY[name]
        if len(args) < low or (high >= 0 and len(args) > high):
            raise _unsupported(piece, f"the rule {name!r} takes {_arity_text(low, high)}")
        if name in ("min", "max", "size", "gt", "gte", "lt", "lte", "between", "digits", "digits_between"):
            if not all(NUMBER.match(a) for a in args):
                raise _unsupported(piece, f"the rule {name!r} needs numbers (field references are not supported)")
        if name in ("regex", "not_regex"):
            patterns.append((args[0], compile_pattern(args[0])))
        rules.append(Rule(name, args))
    return Rules(tuple(rules), tuple(patterns))


def _arity_text(low: int, high: int) -> str:
    if high < 0:
        return f"at least {low} argument(s)"
    if low == high:
        return f"{low} argument(s)"
    return f"{low} to {high} arguments"


def _unsupported(rule: str, message: str) -> UnsupportedRuleError:
    return UnsupportedRuleError(f"Unsupported validation rule {rule!r}: {message}.", {"rule": rule, "reason": message})


# --- checking -------------------------------------------------------------------------------


def _is_number(value: str) -> bool:
    return bool(NUMBER.match(value.strip()))


def _size(value: str, numeric: bool) -> float | None:
    """What min/max/size compare: the number when the rules are numeric, else the length."""
    if numeric:
        return float(value) if _is_number(value) else None
    return float(len(value))


def _url(value: str) -> bool:
    parsed = urlparse(value)
    return bool(parsed.scheme and parsed.netloc and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*$", parsed.scheme))


def _ip(value: str, version: int | None) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def is_email(value: str) -> bool:
    """``local@domain.tld``: one ``@``, no whitespace, something on each side, and a dot inside
    the domain with something before and after it. One pass over the text, no regular
    expression: the old ``[^@\\s]+@[^@\\s]+\\.[^@\\s]+`` backtracked quadratically on a long
    domain full of dots (``a@`` + 50,000 dots took minutes)."""
    local, at, domain = value.partition("@")
    if not at or not local or "@" in domain or any(c.isspace() for c in value):
        return False
    return "." in domain[1:-1]


def _timezone(value: str) -> bool:
    from zoneinfo import available_timezones

    return value in available_timezones()


SIMPLE: dict[str, tuple[Callable[[str], bool], str]] = {
    "string": (lambda v: True, "must be a string"),
    "integer": (lambda v: bool(INTEGER.match(v.strip())), "must be an integer"),
    "numeric": (_is_number, "must be a number"),
    "boolean": (lambda v: v in ("0", "1", "true", "false"), "must be true or false (1 or 0)"),
    "accepted": (lambda v: v.lower() in ("yes", "on", "1", "true"), "must be accepted"),
    "declined": (lambda v: v.lower() in ("no", "off", "0", "false"), "must be declined"),
    "alpha": (lambda v: bool(re.fullmatch(r"[^\W\d_]+", v)), "may only contain letters"),
    "alpha_num": (lambda v: bool(re.fullmatch(r"[^\W_]+", v)), "may only contain letters and numbers"),
    "alpha_dash": (
        lambda v: bool(re.fullmatch(r"[\w-]+", v)),
        "may only contain letters, numbers, dashes and underscores",
    ),
    "ascii": (lambda v: v.isascii(), "may only contain ASCII characters"),
    "lowercase": (lambda v: v == v.lower(), "must be lowercase"),
    "uppercase": (lambda v: v == v.upper(), "must be uppercase"),
    "url": (_url, "must be a valid URL"),
    "active_url": (_url, "must be a valid URL"),
    "email": (lambda v: is_email(v), "must be a valid email address"),
    "ip": (lambda v: _ip(v, None), "must be a valid IP address"),
    "ipv4": (lambda v: _ip(v, 4), "must be a valid IPv4 address"),
    "ipv6": (lambda v: _ip(v, 6), "must be a valid IPv6 address"),
    "uuid": (_uuid, "must be a valid UUID"),
    "json": (_json, "must be valid JSON"),
    "timezone": (_timezone, "must be a valid time zone"),
    "hex_color": (
        lambda v: bool(re.fullmatch(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})", v)),
        "must be a colour",
    ),
    "mac_address": (
        lambda v: bool(re.fullmatch(r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", v)),
        "must be a MAC address",
    ),
}

_PRESENCE = {"required", "nullable", "sometimes", "present", "filled", "bail"}


def check_value(value: str | None, rules: Rules, max_length: int = VALUE_MAX_DEFAULT) -> list[str]:
    """The failures of ``value`` against ``rules`` (empty list: valid). Messages omit the value.

    A value longer than ``max_length`` characters (the blueprint's ``variable_max_length``) fails
    before any rule looks at it, so no rule ever runs on an unbounded input."""
    text = None if value is None else str(value)
    if text is not None and len(text) > max_length:
        return [f"may not be longer than {max_length} characters"]
    empty = text is None or text.strip() == ""
    if empty:
        if rules.has("required") or (rules.has("filled") and text is not None):
            return ["is required"]
        return []
    assert text is not None
    failures: list[str] = []
    patterns = dict(rules.pattern_cache)
    for rule in rules.rules:
        problem = _check_one(text, rule, rules, patterns)
        if problem:
            failures.append(problem)
            if rules.has("bail"):
                break
    return failures


def _check_one(text: str, rule: Rule, rules: Rules, patterns: dict[str, re.Pattern[str]]) -> str | None:
    name, args = rule.name, rule.args
    if name in _PRESENCE:
        return None
    if name in SIMPLE:
        check, message = SIMPLE[name]
        return None if check(text) else message
    if name in ("min", "max", "size", "between", "gt", "gte", "lt", "lte"):
        measured = _size(text, rules.numeric)
        if measured is None:
            return "must be a number"
        unit = "" if rules.numeric else " characters"
        bounds = [float(a) for a in args]
        ok = {
            "min": lambda: measured >= bounds[0],
            "max": lambda: measured <= bounds[0],
            "size": lambda: measured == bounds[0],
            "between": lambda: bounds[0] <= measured <= bounds[1],
            "gt": lambda: measured > bounds[0],
            "gte": lambda: measured >= bounds[0],
            "lt": lambda: measured < bounds[0],
            "lte": lambda: measured <= bounds[0],
        }[name]()
        if ok:
            return None
        if name == "between":
            return f"must be between {args[0]} and {args[1]}{unit}"
        words = {
            "min": "must be at least",
            "max": "may not be greater than",
            "size": "must be",
            "gt": "must be greater than",
            "gte": "must be at least",
            "lt": "must be less than",
            "lte": "may not be greater than",
        }
        return f"{words[name]} {args[0]}{unit}"
    if name in ("digits", "digits_between", "min_digits", "max_digits"):
        if not text.isdigit():
            return "must contain only digits"
        n = len(text)
        limits = [int(float(a)) for a in args]
        ok = {
            "digits": lambda: n == limits[0],
            "digits_between": lambda: limits[0] <= n <= limits[1],
            "min_digits": lambda: n >= limits[0],
            "max_digits": lambda: n <= limits[0],
        }[name]()
        return None if ok else f"must have {name.replace('_', ' ')} {','.join(args)}"
    if name == "in":
        return None if text in args else f"must be one of: {', '.join(args)}"
    if name == "not_in":
        return None if text not in args else f"must not be one of: {', '.join(args)}"
    if name == "starts_with":
        return None if text.startswith(args) else f"must start with one of: {', '.join(args)}"
    if name == "ends_with":
        return None if text.endswith(args) else f"must end with one of: {', '.join(args)}"
    if name == "doesnt_start_with":
        return None if not text.startswith(args) else f"must not start with: {', '.join(args)}"
    if name == "doesnt_end_with":
        return None if not text.endswith(args) else f"must not end with: {', '.join(args)}"
    if name in ("regex", "not_regex"):
        pattern = patterns.get(args[0]) or compile_pattern(args[0])
        matched = pattern.search(text) is not None
        if name == "regex":
            return None if matched else "has an invalid format"
        return None if not matched else "has an invalid format"
    raise _unsupported(str(rule), "the rule is not supported")  # parse_rules refuses it first
