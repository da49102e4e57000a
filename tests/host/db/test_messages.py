"""Message texts that are ours (the pool's) and password masking."""

import pytest

from etamil_server.host.db import messages


@pytest.mark.parametrize(
    "text, shown",
    [
        ("postgres://app:s3cret@db:5432/books", "postgres://app:****@db:5432/books"),
        ("postgresql://app:p@ss:w@db/books", "postgresql://app:****@db/books"),
        ("mysql://root:hunter2@127.0.0.1:3306/test", "mysql://root:****@127.0.0.1:3306/test"),
        ("mysql://root@127.0.0.1/test", "mysql://root@127.0.0.1/test"),
        ("host=db user=app password=s3cret dbname=books", "host=db user=app password=**** dbname=books"),
        ("host=db password = 'two words' dbname=x", "host=db password = **** dbname=x"),
        ("ledger.db", "ledger.db"),
        ("file:ledger.db?mode=ro", "file:ledger.db?mode=ro"),
    ],
)
def test_mask_password(text, shown):
    assert messages.mask_password(text) == shown


def test_pool_exhausted_message_is_bilingual_and_masked():
    error = messages.pool_exhausted("PostgreSQL", "postgres://app:s3cret@db/books", 5.0)
    assert error.message == (
        "தரவுத்தள இணைப்புகள் தீர்ந்தன  (no free connection to PostgreSQL "
        "'postgres://app:****@db/books' within 5 s)"
    )
    assert "s3cret" not in error.message


def test_already_connected_never_shows_a_password():
    error = messages.already_connected("MySQL", "mysql://u:pw@h/db")
    assert "pw@" not in error.message
    assert error.message.startswith("'MySQL' ஏற்கனவே 'mysql://u:****@h/db' உடன்")
