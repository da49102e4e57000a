"""Redis builtins (HOST.md §7.1): against the local Redis, and a canned RESP peer for replies a
real server does not give on demand."""

import socket
import threading
import uuid
from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host.builtins import redis_close, redis_command, redis_connect
from etamil_server.host.services import HOST_SERVICES
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok

REDIS = "127.0.0.1:6379"
NOT_CONNECTED = "ரெடிஸ் இணைக்கப்படவில்லை  (not connected to Redis): use ரெடிஸ்_இணை first"


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_is_up(), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
def ctx():
    context = RunContext(services=HOST_SERVICES)
    yield context
    redis_close(context)


@pytest.fixture
def key():
    return f"etamil-test:{uuid.uuid4().hex}"


def test_spellings():
    assert BUILTINS["retis_iNY"] is BUILTINS["_redisConnect"] is BUILTINS["ரெடிஸ்_இணை"]
    assert BUILTINS["retis_kattaLY"] is BUILTINS["_redisCommand"] is BUILTINS["ரெடிஸ்_கட்டளை"]
    assert BUILTINS["retis_piri"] is BUILTINS["_redisClose"] is BUILTINS["ரெடிஸ்_பிரி"]
    assert [BUILTINS[n].arity for n in ("_redisConnect", "_redisCommand", "_redisClose")] == [1, 2, 0]


def test_not_connected(ctx):
    result = redis_command(ctx, "PING", [])
    assert isinstance(result, Err) and result.value == NOT_CONNECTED
    assert redis_close(ctx) is False


def test_arguments_must_be_an_array(ctx):
    with pytest.raises(EtamilError) as caught:
        redis_command(ctx, "GET", "k")
    assert caught.value.message == (
        "ரெடிஸ்_கட்டளை அளபுருக்கள் ஒரு அணி தேவை  (the arguments must be an array, got a string)"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [("localhost", "invalid socket address"), ("127.0.0.1:port", "invalid port value")],
)
def test_bad_addresses(ctx, address, why):
    result = redis_connect(ctx, address)
    assert isinstance(result, Err)
    assert result.value == f"ரெடிஸ் '{address}' இணைக்க முடியவில்லை  (cannot connect to Redis at '{address}'): {why}"


def test_connection_refused(ctx):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    result = redis_connect(ctx, address)
    assert isinstance(result, Err)
    assert result.value == (
        f"ரெடிஸ் '{address}' இணைக்க முடியவில்லை  (cannot connect to Redis at '{address}'): "
        "Connection refused (os error 111)"
    )


@needs_redis
def test_round_trip(ctx, key):
    assert redis_connect(ctx, REDIS).value == REDIS
    assert redis_command(ctx, "PING", []).value == "PONG"
    value = "வணக்கம்\r\n$3\r\nnot a frame"  # length-prefixed, so CR LF inside is safe
    assert redis_command(ctx, "SET", [key, value]).value == "OK"
    assert redis_command(ctx, "GET", [key]).value == value
    assert redis_command(ctx, "DEL", [key]).value == Decimal(1)
    assert redis_command(ctx, "GET", [key]).value is None
    assert redis_command(ctx, "SET", [key, ""]).value == "OK"
    assert redis_command(ctx, "GET", [key]).value == ""  # empty text, distinct from nil
    redis_command(ctx, "DEL", [key])


@needs_redis
def test_numbers_arrays_and_rendered_arguments(ctx, key):
    redis_connect(ctx, REDIS)
    assert redis_command(ctx, "INCRBY", [key, Decimal("5")]).value == Decimal(5)
    assert redis_command(ctx, "DEL", [key]).value == Decimal(1)
    assert redis_command(ctx, "RPUSH", [key, Decimal("1.50"), True, None]).value == Decimal(3)
    lrange = redis_command(ctx, "LRANGE", [key, Decimal(0), Decimal(-1)])
    assert lrange.value == ["1.5", "true", "nil"]
    redis_command(ctx, "DEL", [key])


@needs_redis
def test_error_reply_is_a_failure(ctx, key):
    redis_connect(ctx, REDIS)
    result = redis_command(ctx, "NOSUCHCOMMAND", [])
    assert isinstance(result, Err) and result.value.startswith("ERR unknown command")
    redis_command(ctx, "SET", [key, "text"])
    result = redis_command(ctx, "INCR", [key])
    assert isinstance(result, Err) and result.value.startswith("ERR ")
    redis_command(ctx, "DEL", [key])


@needs_redis
def test_close_and_reconnect(ctx):
    redis_connect(ctx, REDIS)
    first = ctx.redis
    assert isinstance(redis_connect(ctx, REDIS), Ok)
    assert ctx.redis is not first  # connecting again replaces the connection
    assert redis_close(ctx) is True
    assert redis_close(ctx) is False
    assert redis_command(ctx, "PING", []).value == NOT_CONNECTED


@needs_redis
def test_failed_connect_keeps_the_previous_connection(ctx):
    redis_connect(ctx, REDIS)
    assert isinstance(redis_connect(ctx, "nowhere"), Err)
    assert redis_command(ctx, "PING", []).value == "PONG"


# ------------------------------------------------------------------------- canned replies


@pytest.fixture
def canned():
    """A one-shot RESP peer: reads one command, answers with the given bytes, then closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    replies: list[bytes] = []

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(replies[0])

    thread = threading.Thread(target=serve, daemon=True)

    def answer(reply: bytes, ctx: RunContext):
        replies.append(reply)
        thread.start()
        assert isinstance(redis_connect(ctx, f"127.0.0.1:{listener.getsockname()[1]}"), Ok)
        result = redis_command(ctx, "ANY", [])
        thread.join(5)
        return result

    yield answer
    listener.close()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"$-1\r\n", Ok(None)),
        (b"*-1\r\n", Ok(None)),
        (b"*0\r\n", Ok([])),
        (b":-42\r\n", Ok(Decimal(-42))),
        (b"$3\r\na\xffb\r\n", Ok("a\ufffdb")),
        (b"*3\r\n-ERR inner\r\n:5\r\n*1\r\n+x\r\n", Ok(["ERR inner", Decimal(5), ["x"]])),
        (b"%1\r\n", Err("தெரியாத ரெடிஸ் குறி '%'  (unknown RESP marker '%')")),
        (b":abc\r\n", Err("'abc' ஒரு எண் அல்ல  ('abc' is not an integer)")),
        (b"$x\r\n", Err("'x' ஒரு நீளம் அல்ல  ('x' is not a length)")),
        (b"*?\r\n", Err("'?' ஒரு எண்ணிக்கை அல்ல  ('?' is not a count)")),
        (b"", Err("ரெடிஸ் இணைப்பு மூடப்பட்டது  (the connection closed)")),
        (b"*2\r\n:1\r\n", Err("ரெடிஸ் இணைப்பு மூடப்பட்டது  (the connection closed)")),
        (
            b"$5\r\nab",
            Err("ரெடிஸ் மதிப்பைப் படிக்க முடியவில்லை  (cannot read the value): failed to fill whole buffer"),
        ),
    ],
)
def test_reply_decoding(canned, ctx, reply, expected):
    result = canned(reply, ctx)
    assert type(result) is type(expected) and result.value == expected.value
