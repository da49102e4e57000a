"""The base layer: exact decimal numbers (``numbers``) and the error types and message texts every
other layer raises (``errors``). It imports nothing of ours, so the front end (``lang/``), the
runtime, the host and the server can all stand on it without leaning on each other."""
