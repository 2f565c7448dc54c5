"""The station agent (docs/architecture.md "Agent"): sync → cache → timed jobs → player → play logs.

Runs on the commune's machine with no Flask and no server models; see ``runner.Agent``.
"""
