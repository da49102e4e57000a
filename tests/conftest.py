"""Every test process compiles programs the way the command and the server do: with every family
of builtins loaded (``etamil_server.families``)."""

from etamil_server.base.recursion import allow_deep_recursion
from etamil_server.families import load_families

allow_deep_recursion()  # as the command, the REPL and the server do before loading programs
load_families()
