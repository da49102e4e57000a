"""The result of compiling: a Python code object run any number of times, each run with fresh
globals, and the translation of what goes wrong in it into eTamil errors."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from ...base.errors import CALL_DEPTH, EtamilError, undefined_variable
from ..context import RunContext
from .names import MANGLED, Names


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


#: the value of a function's local that is not bound yet (reads of it fall back to the global)
UNSET = _Unset()


class CompileError(Exception):
    """A program this implementation cannot compile (nesting beyond what CPython accepts).
    ``message`` is bilingual, in the style of the load errors."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


TOO_DEEP = (
    "நிரல் மிக ஆழமாகப் பின்னப்பட்டுள்ளது  (the program nests blocks or expressions too deeply for "
    "this implementation: {detail})"
)


class Compiled:
    """A compiled program. :meth:`run` runs it once with fresh globals.

    ``blocking``: whether the code can reach a blocking operation; ``inputs_used``: the injected
    globals the program can read (a server builds only these per request); ``collect_globals``:
    whether a run returns every global (False: only the response variables)."""

    def __init__(self, source: str, namespace: dict[str, Any], names: Names, blocking: bool, filename: str,
                 inputs_used: frozenset[str] = frozenset(), collect_globals: bool = True):
        self.source = source
        self.blocking = blocking
        self.inputs_used = inputs_used
        self.collect_globals = collect_globals
        self._names = names
        try:
            code = compile(source, filename, "exec")
        except (SyntaxError, RecursionError, MemoryError) as error:  # IndentationError included
            raise CompileError(TOO_DEEP.format(detail=getattr(error, "msg", None) or type(error).__name__)) from None
        exec(code, namespace)  # noqa: S102 - our own generated code
        self._run = namespace["__run"]

    def run(self, ctx: RunContext, inject: dict[str, Any] | None = None, collect: bool = True) -> dict[str, Any]:
        """Run once; returns the program's globals at the end (with ``collect=False`` only the
        response variables, which is all a server needs and cheaper). On a runtime error raises
        :class:`EtamilError` whose ``globals`` attribute holds the globals at that point."""
        previous = decimal.getcontext()
        decimal.setcontext(ctx.decimal_context)
        try:
            frame_locals = self._run(ctx, inject or {})
        except (EtamilError, NameError, RecursionError, ArithmeticError, TypeError, KeyError,
                IndexError, ValueError, AttributeError) as error:
            converted = self._convert(error)
            converted.globals = self._globals_from_traceback(error, ctx)
            if converted is error:
                raise
            raise converted from None
        finally:
            decimal.setcontext(previous)
        if not collect or frame_locals is None:
            return ctx.response
        return self._globals(frame_locals, ctx)

    def _globals(self, frame_locals: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in frame_locals.items():
            if key.startswith("g") and value is not UNSET:
                match = MANGLED.fullmatch(key)
                if match:
                    if type(value) is int:  # an unboxed whole number
                        value = Decimal(value)
                    result[self._names.reverse[int(match.group(1))]] = value
        result.update(ctx.response)
        return result

    def _globals_from_traceback(self, error: BaseException, ctx: RunContext) -> dict[str, Any]:
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code is self._run.__code__:
                return self._globals(dict(tb.tb_frame.f_locals), ctx)
            tb = tb.tb_next
        return dict(ctx.response)

    def _convert(self, error: BaseException) -> EtamilError:
        if isinstance(error, EtamilError):
            return error
        if isinstance(error, NameError):
            name = self._names.etamil(str(error))
            if name is not None:
                return undefined_variable(name)
        if isinstance(error, RecursionError):
            return EtamilError(CALL_DEPTH)
        # A Python error that is not a language error: an internal fault. Report it without
        # a traceback (the CLI prints it as a runtime error) and keep the details for the logs.
        converted = EtamilError(f"உள் பிழை  (internal error: {type(error).__name__}: {error})")
        converted.internal = error
        return converted
