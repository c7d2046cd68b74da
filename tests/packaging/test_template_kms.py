"""The node-token KMS key in the merge template: created, granted to the functions, named in their environment."""

from __future__ import annotations

from infra.template import FUNCTIONS_POLICY, NODE_TOKEN_KEY, merge_template


def test_functions_may_encrypt_and_decrypt_with_the_node_token_key_only():
    template = merge_template()
    resources = template["Resources"]

    assert resources[NODE_TOKEN_KEY]["Type"] == "AWS::KMS::Key"
    assert resources[NODE_TOKEN_KEY]["Properties"]["EnableKeyRotation"] is True
    assert resources[NODE_TOKEN_KEY]["DeletionPolicy"] == "Retain"
    statements = resources[FUNCTIONS_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    kms = [s for s in statements if any(str(a).startswith("kms:") for a in _list(s["Action"]))]
    assert len(kms) == 1
    assert sorted(kms[0]["Action"]) == ["kms:Decrypt", "kms:Encrypt"]
    assert kms[0]["Resource"] == {"Fn::GetAtt": [NODE_TOKEN_KEY, "Arn"]}
    assert template["Globals"]["Function"]["Environment"]["Variables"]["KMS_KEY_ID"] == {"Ref": NODE_TOKEN_KEY}


def _list(value):
    return value if isinstance(value, list) else [value]
