"""The ``loaxa`` console script: ``loaxa agent`` starts light, everything else is web.cli."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["agent"]:
        from web.agent_cli import agent

        agent.main(args=sys.argv[2:], prog_name="loaxa agent")
    else:
        from web.cli import main as server_main

        server_main()
