"""Every test process compiles programs the way the command and the server do: with every family
of builtins loaded (``etamil_server.families``)."""

from etamil_server.families import load_families

load_families()
