"""The ``etamil`` command.

Two families of forms:

* the reference's (HOST.md §2): ``etamil [--vm|--check|--repl|--server|--async|--llvm] [--host H]
  [--port P] [FILE]`` with its framing lines, messages and exit codes, byte for byte;
* our quiet forms: ``etamil run [--dump-globals OUT.json] FILE`` (only what the program prints;
  errors on stderr), ``etamil check [--strict] FILE``, ``etamil serve FILE [--host --port
  --workers N --reload]`` and ``etamil help [COMMAND]``; each takes ``-h``/``--help``. A first
  argument ``run``, ``check``, ``serve`` or ``help`` selects them (a program file with one of
  those names can be given as ``./run``).

The help texts are ours (our commands first, then the reference's flags); every other message and
exit status of the reference's form is the reference's.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .base.recursion import allow_deep_recursion
from .base.terminal import complain, exit_status, flush_streams, say, shown_path

VERSION_LINE = "etamil 0.3.0"

HELP_TEXT = """etamil 0.3.0 — run, check and serve eTamil programs

USAGE:
    etamil run FILE                  run a program: only what it prints; errors on stderr
    etamil check [--strict] FILE     find errors without running anything
    etamil serve FILE [--port PORT]  serve it over HTTP (also --host, --workers, --reload)
    etamil --repl                    interactive shell: type an expression, see what it comes to
    etamil help [COMMAND]            this message, or one command's (also: etamil COMMAND --help)

EXAMPLES:
    echo "950000" | etamil run examples/income_tax.qmz
    etamil check --strict examples/ledger_api.qmz
    etamil serve examples/hello.qmz --port 8080
    etamil --repl

THE REFERENCE'S FORM (etamil 0.3.0, its framing lines around the output):
    etamil [OPTIONS] [FILE]
    cat FILE | etamil [OPTIONS]

    --vm               Run on the bytecode VM (default)
    --check            Lex, parse and type check only — never runs the program
    --repl             Interactive shell
    --server           Start the synchronous HTTP server
    --async            Concurrent server: our server in one process
                       இடைவெளி blocks run on a timer under either server
    --llvm             LLVM backend (not available: says so and exits 1)
    --host <HOST>      Server bind address (default: 127.0.0.1)
    --port <PORT>      Server port (default: 8080)
    -h, --help         Show this message
    -V, --version      Show the version

    echo "950000" | etamil --vm examples/income_tax.qmz
    etamil --server --port 8080 examples/hello.qmz
    cat examples/ledger_api.qmz | etamil --check

Exit status: 0 success, 1 any language error, 2 bad arguments, N when the program calls
வெளியேறு(N). More in README.md and docs/OPERATIONS.md.
"""

RUN_USAGE = """etamil run — run a program: only what it prints goes to stdout, errors to stderr

USAGE:
    etamil run [--dump-globals OUT.json] FILE
    etamil run [--dump-globals OUT.json] -      (the program on standard input; also with no FILE)

OPTIONS:
    --dump-globals OUT.json   when the run ends (also on a runtime error), write every global
                              variable to OUT.json as {"name": {"type": ..., "text": ...}}
    -h, --help                show this message

Exit status: 0 success, 1 any language error, 2 bad arguments, N when the program calls
வெளியேறு(N).

EXAMPLES:
    echo "950000" | etamil run examples/income_tax.qmz
    echo "950000" | etamil run --dump-globals globals.json examples/income_tax.qmz
    echo 'அச்சு 0.1 + 0.2;' | etamil run -
"""

CHECK_USAGE = """etamil check — find errors without running anything (nothing runs, nothing is written)

USAGE:
    etamil check [--strict] FILE
    etamil check [--strict] -      (the program on standard input; also with no FILE)

Reports lexical, parse and import errors and declared-type errors, as the reference's --check;
success is silence.

OPTIONS:
    --strict     also report calls to functions that exist nowhere (no builtin, no definition,
                 no import) and names read before any assignment can reach them
    -h, --help   show this message

Exit status: 0 nothing found, 1 anything reported, 2 bad arguments.

EXAMPLES:
    etamil check examples/ledger_api.qmz
    etamil check --strict examples/hello.qmz
"""

SERVE_USAGE = """etamil serve — serve a program over HTTP (development and single host)

USAGE:
    etamil serve FILE [--host HOST] [--port PORT] [--workers N] [--reload]

OPTIONS:
    --host HOST   bind address (default: 127.0.0.1)
    --port PORT   port, 0 to 65535 (default: 8080; 0 picks a free one)
    --workers N   N > 1: a gunicorn master pre-forking N workers (conf/etamil.py);
                  default 1: one process
    --reload      reload the program when one of its files changes; a broken edit keeps
                  the running version
    -h, --help    show this message

In production: ETAMIL_PROGRAM=examples/ledger_api.qmz gunicorn -c conf/etamil.py
(docs/OPERATIONS.md: signals, drain, health, settings).

EXAMPLES:
    etamil serve examples/hello.qmz
    etamil serve examples/hello.qmz --host 0.0.0.0
    etamil serve examples/ledger_api.qmz --port 9000
    etamil serve examples/ledger_api.qmz --workers 2
    etamil serve examples/hello.qmz --reload
"""

#: ``etamil help COMMAND`` and ``etamil COMMAND --help``
COMMAND_USAGE = {"run": RUN_USAGE, "check": CHECK_USAGE, "serve": SERVE_USAGE}

LLVM_UNAVAILABLE = """❌ Error: LLVM backend is not available on this platform.
   Platform: {os}
   Reason: LLVM feature not enabled during build

Please use one of the following modes instead:
  --vm              VM bytecode executor (default, recommended)
  --server          HTTP sync server
  --async           HTTP async server (production)

Examples:
  etamil --vm myprogram.etamil
  etamil --async --port 8080 api.etamil
"""


class UsageError(Exception):
    """A bad command line: message for stderr, exit 2."""


def _parse_port(value: str) -> int:
    digits = value[1:] if value.startswith("+") else value
    if not digits.isascii() or not digits.isdigit() or int(digits) > 65535:
        raise UsageError(f"✗ --port needs a number from 0 to 65535, got '{value}'")
    return int(digits)


# ============================================================================ loading


def _load(path: str | None):
    """Load the program from ``path`` or standard input. Returns the Program or prints the error."""
    from .families import load_families
    from .lang.loader import LoadError, load_path, load_text

    load_families()  # every builtin is known before anything is checked or compiled

    try:
        if path is not None:
            return load_path(path)
        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise LoadError(
                "கோப்பு '<stdin>' படிக்க முடியவில்லை  (cannot read '<stdin>'): stream did not contain valid UTF-8"
            ) from None
        return load_text(text)
    except LoadError as error:
        complain("✗ " + error.message)
        return None


def _type_errors(program) -> bool:
    from .lang.checker import check

    errors = check(program)
    for message in errors:
        complain("✗ " + message)
    return bool(errors)


# ============================================================================ running


def _run(program, quiet: bool, dump_path: str | None = None) -> int:
    from .base.errors import EtamilError, EtamilExit, location_text
    from .host.services import HOST_SERVICES
    from .lang.counts import instruction_count
    from .runtime import limits
    from .runtime.compiler import CompileError, compile_program
    from .runtime.context import RunContext

    if limits.environment_problem:  # ETAMIL_MAX_TEXT_BYTES / ETAMIL_MAX_ITEMS did not parse
        complain("✗ " + limits.environment_problem)
        return 1
    try:
        compiled = compile_program(program.statements, filename=program.path or "<stdin>")
    except CompileError as error:
        complain("✗ " + error.message)
        return 1
    if not quiet:
        say("=== eTamil VM Executor ===")
        say("")
        say(f"✓ Bytecode generated ({instruction_count(program.statements)} instructions)")
        say("=== Execution Output ===")
        say("")
    ctx = RunContext(services=HOST_SERVICES)
    final: dict[str, Any] | None = None
    try:
        final = compiled.run(ctx)
    except EtamilExit as exit_request:
        flush_streams()
        return exit_status(exit_request.status)
    except EtamilError as error:
        if dump_path:
            _dump_globals(dump_path, getattr(error, "globals", {}))
        complain("✗ Runtime error: " + error.message)
        if error.location is not None:
            where = error.location
            complain(location_text(where, shown_path(where.file) if where.file else None))
        return 1
    finally:
        ctx.release()
    if dump_path:
        _dump_globals(dump_path, final or {})
    if not quiet:
        say("")
        say("✓ Execution completed successfully")
    return 0


_DUMP_TYPES = {
    "Decimal": "number",
    "str": "text",
    "bool": "bool",
    "NoneType": "null",
    "list": "array",
    "dict": "record",
    "Ok": "result",
    "Err": "result",
}


def _dump_globals(path: str, final: dict[str, Any]) -> None:
    from .runtime.values import display

    document = {}
    for name in sorted(final):
        value = final[name]
        kind = _DUMP_TYPES.get(type(value).__name__, "other")
        try:
            text = display(value)
        except TypeError:
            text = repr(value)
        document[name] = {"type": kind, "text": text}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


# ============================================================================ reference form


def reference_main(argv: list[str]) -> int:
    mode = "vm"
    check = repl = server = async_server = False
    host, port = "127.0.0.1", 8080
    path: str | None = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-h", "--help"):
            sys.stdout.write(HELP_TEXT)
            sys.stdout.flush()
            return 0
        if arg in ("-V", "--version"):
            say(VERSION_LINE)
            return 0
        if arg == "--vm":
            mode = "vm"
        elif arg == "--llvm":
            mode = "llvm"
        elif arg == "--check":
            check = True
        elif arg == "--repl":
            repl = True
        elif arg == "--server":
            server = True
        elif arg == "--async":
            async_server = True
        elif arg == "--host":
            if index + 1 >= len(argv):
                raise UsageError("✗ --host needs a value")
            index += 1
            host = argv[index]
        elif arg == "--port":
            if index + 1 >= len(argv):
                raise UsageError("✗ --port needs a value")
            index += 1
            port = _parse_port(argv[index])
        elif arg.startswith("-"):
            raise UsageError(f"✗ Unknown option: {arg}\n   Run `etamil --help` to see the available options.")
        else:
            path = arg
        index += 1
    if repl:
        from .repl import run_repl

        return run_repl()
    program = _load(path)
    if program is None:
        return 1
    if check:
        return 1 if _type_errors(program) else 0
    say(f"✓ Parsing complete ({len(program.statements)} statements)")
    say("")
    if _type_errors(program):
        return 1
    if async_server:
        from .web.serve import serve_async

        return serve_async(program.path or path, host, port, program=program)
    if server:
        from .web.sync_server import serve_reference

        return serve_reference(program.path or path, host, port, program=program)
    if mode == "llvm":
        import platform

        sys.stdout.flush()
        sys.stderr.write(LLVM_UNAVAILABLE.format(os=platform.system().lower()))
        sys.stderr.flush()
        return 1
    return _run(program, quiet=False)


# ============================================================================ our forms


def _unknown_option(command: str, arg: str) -> UsageError:
    return UsageError(f"✗ Unknown option: {arg}\n   Run `etamil {command} --help` to see its options.")


def _usage(command: str) -> int:
    """``etamil COMMAND --help``: the command's usage on stdout, exit 0."""
    sys.stdout.write(COMMAND_USAGE[command])
    sys.stdout.flush()
    return 0


def _quiet_run(argv: list[str]) -> int:
    dump: str | None = None
    path: str | None = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-h", "--help"):
            return _usage("run")
        if arg == "--dump-globals":
            if index + 1 >= len(argv):
                raise UsageError("✗ --dump-globals needs a file to write")
            index += 1
            dump = argv[index]
        elif arg.startswith("-") and arg != "-":
            raise _unknown_option("run", arg)
        else:
            path = None if arg == "-" else arg
        index += 1
    program = _load(path)
    if program is None:
        return 1
    if _type_errors(program):
        return 1
    return _run(program, quiet=True, dump_path=dump)


def _quiet_check(argv: list[str]) -> int:
    strict = False
    path: str | None = None
    for arg in argv:  # left to right, as the reference: --help acts when reached
        if arg in ("-h", "--help"):
            return _usage("check")
        if arg == "--strict":
            strict = True
        elif arg.startswith("-") and arg != "-":
            raise _unknown_option("check", arg)
        else:
            path = None if arg == "-" else arg
    program = _load(path)
    if program is None:
        return 1
    found = _type_errors(program)
    if strict:
        found = _strict_findings(program) or found
    return 1 if found else 0


def _strict_findings(program) -> bool:
    """``check --strict``: unknown functions and names no assignment reaches (lang/strict.py)."""
    from .families import load_families
    from .lang.strict import strict_findings

    findings = strict_findings(program, load_families().keys())
    for message in findings:
        complain("✗ " + message)
    return bool(findings)


def _serve(argv: list[str]) -> int:
    host, port, workers, reload = "127.0.0.1", 8080, 1, False
    path: str | None = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-h", "--help"):
            return _usage("serve")
        if arg in ("--host", "--port", "--workers"):
            if index + 1 >= len(argv):
                raise UsageError(f"✗ {arg} needs a value")
            index += 1
            value = argv[index]
            if arg == "--host":
                host = value
            elif arg == "--port":
                port = _parse_port(value)
            else:
                if not value.isdigit() or int(value) < 1:
                    raise UsageError(f"✗ --workers needs a whole number of at least 1, got '{value}'")
                workers = int(value)
        elif arg == "--reload":
            reload = True
        elif arg.startswith("-"):
            raise _unknown_option("serve", arg)
        else:
            path = arg
        index += 1
    if path is None:
        raise UsageError("✗ etamil serve needs a program file\n   Run `etamil serve --help` to see its options.")
    if workers > 1:  # the gunicorn master, configured as conf/etamil.py configures it
        from workers.application import run_gunicorn

        return run_gunicorn(path, host, port, workers, reload)
    from .web.serve import serve

    return serve(path, host, port, reload)


def _help(argv: list[str]) -> int:
    """``etamil help [COMMAND]``."""
    if not argv:
        sys.stdout.write(HELP_TEXT)
        sys.stdout.flush()
        return 0
    if len(argv) == 1 and argv[0] in COMMAND_USAGE:
        return _usage(argv[0])
    raise UsageError(
        f"✗ Unknown command: {' '.join(argv)}\n   `etamil help` takes one of: {', '.join(COMMAND_USAGE)}."
    )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    allow_deep_recursion()  # programs are loaded and run in this process
    try:
        if args and args[0] == "run":
            status = _quiet_run(args[1:])
        elif args and args[0] == "check":
            status = _quiet_check(args[1:])
        elif args and args[0] == "serve":
            status = _serve(args[1:])
        elif args and args[0] == "help":
            status = _help(args[1:])
        else:
            status = reference_main(args)
    except UsageError as error:
        complain(str(error))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    return status
