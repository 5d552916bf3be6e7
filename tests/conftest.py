"""Shared test settings.

Hypothesis profile ``thorough``: ``pytest --hypothesis-profile=thorough tests/test_bad_inputs.py``
runs the broken-input corpus with 1000 examples per test instead of the few dozen CI runs.
"""

from hypothesis import settings

settings.register_profile("thorough", max_examples=1000, deadline=None)
