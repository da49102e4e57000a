"""The command's parameters (the make variables) and their errors."""

from __future__ import annotations

import pytest

from bench.loadtest import UsageError, main, parameters_text, parse_arguments, parse_levels, results_folder
from bench.loadtest_measure import DEFAULT_DURATION, DEFAULT_LEVELS, DEFAULT_SECONDS


def test_defaults_are_the_plan_s():
    settings = parse_arguments([])
    assert settings.scenario == "compare"
    assert settings.seconds == DEFAULT_SECONDS == 10
    assert settings.levels == DEFAULT_LEVELS == (1, 10, 100, 1000)
    assert settings.duration == DEFAULT_DURATION == 600
    assert settings.url is None and not settings.levels_given


def test_every_parameter_is_read():
    settings = parse_arguments(["--seconds", "3", "--levels", "100 1, 10", "--scenario", "RAMP", "--duration", "3600",
                                "--url", "http://127.0.0.1:8080"])
    assert (settings.seconds, settings.levels, settings.scenario, settings.duration, settings.url) == (
        3, (1, 10, 100), "ramp", 3600, "http://127.0.0.1:8080")
    assert settings.levels_given


def test_empty_values_mean_the_defaults():
    settings = parse_arguments(["--seconds", "", "--levels", "", "--url", " "])
    assert settings.seconds == DEFAULT_SECONDS and settings.levels == DEFAULT_LEVELS and settings.url is None


def test_warmup_is_bounded_by_the_level_length():
    assert parse_arguments(["--seconds", "1"]).warmup == 1
    assert parse_arguments(["--seconds", "30"]).warmup == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seconds", "two"], "SECONDS must be a whole number of at least 1, got 'two'"),
        (["--seconds", "0"], "SECONDS must be a whole number of at least 1"),
        (["--levels", "1 ten"], "LEVELS must be a whole number of at least 1, got 'ten'"),
        (["--levels", " , "], "LEVELS must list connection counts"),
        (["--scenario", "soak"], "SCENARIO must be one of compare, ramp, spike, sustained, shutdown, got 'soak'"),
        (["--duration", "5"], "DURATION must be a whole number of at least 10"),
        (["--scenario", "shutdown", "--url", "http://127.0.0.1:8080"], "leave ETAMIL_URL unset"),
    ],
)
def test_bad_parameters_name_the_make_variable(argv, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        parse_arguments(argv)


def test_main_reports_a_bad_parameter_in_one_line_and_exits_2(capsys):
    assert main(["--levels", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loadtest: LEVELS must be") and "Traceback" not in err


def test_parse_levels_sorts_and_drops_repeats():
    assert parse_levels("1000 10 10,1") == (1, 10, 1000)


def test_results_folders_never_collide(tmp_path):
    first = results_folder(tmp_path)
    first.mkdir()
    second = results_folder(tmp_path)
    assert second != first and second.parent == tmp_path


def test_the_parameters_line_shows_levels_only_where_they_apply():
    assert parameters_text(parse_arguments([])) == 'SECONDS=10, LEVELS="1 10 100 1000"'
    assert parameters_text(parse_arguments(["--scenario", "ramp"])) == "SECONDS=10"
    assert parameters_text(parse_arguments(["--scenario", "sustained", "--levels", "50", "--duration", "60"])) == \
        'SECONDS=10, LEVELS="50", DURATION=60'
