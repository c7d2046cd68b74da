"""A small CloudFormation renderer for tests: a template's parameters (defaults plus overrides,
checked against their constraints as CloudFormation checks them), its conditions, and the
intrinsic functions the panel's template uses (Ref, Fn::If, Fn::Equals, Fn::Not, Fn::And,
Fn::Or, Condition, Fn::Sub, Fn::GetAtt, Fn::Join), evaluated the way a deploy would.

Resources resolve to the physical ids the test gives (``physical``), or to a made-up name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the key or list item disappears
ACCOUNT = "123456789012"


class ParameterError(ValueError):
    """A parameter value CloudFormation would refuse before deploying anything."""


def parameter_values(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Every parameter's value (override or default), each checked against its constraints."""
    values: dict[str, str] = {}
    for name, spec in template.get("Parameters", {}).items():
        if overrides and name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = str(spec["Default"])
        else:
            raise ParameterError(f"{name} has no default: a first deploy would have to type it")
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(a) for a in allowed]:
            raise ParameterError(f"{name}={value!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ParameterError(f"{name}={value!r} does not match {pattern}")
        if spec.get("Type") == "Number":
            number = float(value)
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise ParameterError(f"{name}={value} is below {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise ParameterError(f"{name}={value} is above {spec['MaxValue']}")
        values[name] = value
    unknown = set(overrides or {}) - set(values)
    if unknown:
        raise ParameterError(f"the template has no parameters {sorted(unknown)}")
    return values


@dataclass
class Renderer:
    template: dict[str, Any]
    parameters: dict[str, str]
    stack: str = "mamba-test"
    region: str = "us-east-1"
    physical: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # "Logical.Attr" -> value
    _conditions: dict[str, bool] = field(default_factory=dict)

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::StackName": self.stack,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo():
            return self.pseudo()[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template.get("Resources", {}):
            return self.physical.get(name, f"{self.stack}-{name}-PHYSICAL")
        raise KeyError(f"Ref to unknown {name!r}")

    def get_att(self, logical: str, attribute: str) -> str:
        if logical not in self.template.get("Resources", {}):
            raise KeyError(f"GetAtt of unknown resource {logical!r}")
        known = self.attributes.get(f"{logical}.{attribute}")
        if known is not None:
            return known
        if attribute == "Arn":
            # An ARN shaped as the resource's service spells it, so a setting that checks the
            # shape (an IAM role's ``arn:aws:iam::``) sees what a deploy would give it.
            kind = str(self.template["Resources"][logical].get("Type", "AWS::Unknown::Resource"))
            service, resource = [*kind.split("::"), "", ""][1:3]
            name = f"{self.stack}-{logical}"
            if service == "IAM":
                return f"arn:aws:iam::{ACCOUNT}:{resource.lower()}/{name}"
            return f"arn:aws:{service.lower()}:{self.region}:{ACCOUNT}:{resource.lower()}/{name}"
        return f"{logical}-{attribute}"

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.value(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                text, variables = arg
                return self.sub(text, {k: self.value(v) for k, v in variables.items()})
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(v) for v in self.value(items))
        rendered = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in rendered.items() if v is not NO_VALUE}

    def exists(self, logical: str) -> bool:
        """Whether a resource is created (its Condition, if any, holds)."""
        resource = self.template["Resources"].get(logical)
        return resource is not None and ("Condition" not in resource or self.condition(resource["Condition"]))
