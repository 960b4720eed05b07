"""The action server registers exactly the custom actions the domain names."""
from __future__ import annotations

from rasa_sdk.executor import ActionExecutor


def test_action_server_registers_every_domain_action_and_nothing_else(domain):
    executor = ActionExecutor()
    executor.register_package("actions")  # fails loudly on a concrete class without a name
    assert set(executor.actions) == set(domain["actions"])
