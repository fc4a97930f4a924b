"""Security and operations rules for the flixstack resource graph.

``rules.py`` holds pure functions over resources; ``__main__.py`` wraps them as a
pulumi-policy pack (``pulumi preview --policy-pack infra/policy``); the tests run the same
functions over the graph that Pulumi's mocks produce for every stack.
"""
