"""Every setting is checked against its rule when it is read: a wrong value or an unknown
key is one ConfigError naming the key and where it was set; an unknown BACKCHANNEL_*
variable is a warning with the nearest known name. (The command line's exit status for
the same mistakes: tests/backchannel/test_bad_settings.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_settings


@pytest.mark.parametrize("variable, value, message", [
    ("HEALTH_PORT", "99999", "must be a whole number from 1 to 65535, not '99999'"),
    ("HEALTH_PORT", "0", "from 1 to 65535"),
    ("HEALTH_PORT", "80.5", "whole number"),
    ("LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'"),
    ("DOWNLOAD_TIMEOUT", "-5", "must be a number above 0, not '-5'"),
    ("DOWNLOAD_TIMEOUT", "nan", "must be a number above 0, not 'nan'"),
    ("DOWNLOAD_TIMEOUT", "inf", "not 'inf'"),
    ("DOWNLOAD_TIMEOUT", "0", "above 0"),
    ("DOWNLOAD_TIMEOUT", "soon", "not 'soon'"),
    ("MAX_PAGE_BYTES", "-1", "must be a whole number of at least 1, not '-1'"),
    ("RETRY_TIMES", "-3", "must be a whole number of at least 0, not '-3'"),
    ("ALERT_ATTEMPTS", "-1", "of at least 1"),
    ("ALERT_ATTEMPTS", "0", "of at least 1"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN", "-1", "of at least 1"),
    ("CONCURRENT_REQUESTS", "0", "of at least 1"),
    ("DEFAULT_INTERVAL_MINUTES", "0", "from 0.01 to 10080"),
    ("TICK_SECONDS", "-1", "above 0"),
    ("DOWNLOAD_DELAY", "-0.5", "of at least 0"),
    ("ALLOW_PRIVATE_ADDRESSES", "maybe", "must be true or false, not 'maybe'"),
    ("OBEY_ROBOTS_TXT", "2", "true or false"),
    ("DIGEST_MINUTES", "email", "must look like email=10,slack=5"),
    ("DIGEST_MINUTES", "email=-5", "numbers of at least 0"),
    ("USER_AGENT", "bot\r\nX-Injected: 1", "control characters"),
    ("USER_AGENT", "  ", "must not be empty"),
    ("WORKER_CONCURRENCY", "0", "of at least 1"),  # read by `run --role worker`
    ("STALLED_SECONDS", "never", "must be a number above 0"),
])
def test_a_bad_value_in_the_environment_names_the_variable(variable, value, message):
    with pytest.raises(ConfigError) as error:
        load_settings({"BACKCHANNEL_" + variable: value})
    assert str(error.value).startswith(f"BACKCHANNEL_{variable}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_home_that_is_a_file_is_named(tmp_path):
    (tmp_path / "home").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"^BACKCHANNEL_HOME: .*home is not a directory$"):
        load_settings({"BACKCHANNEL_HOME": str(tmp_path / "home")})
    assert load_settings({"BACKCHANNEL_HOME": str(tmp_path / "new")}).home == tmp_path / "new"


def test_a_sources_setting_that_is_a_folder_is_named(tmp_path):
    with pytest.raises(ConfigError, match="is a directory, not a file"):
        load_settings({"BACKCHANNEL_SOURCES": str(tmp_path)})


def config_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "backchannel.toml"
    path.write_text(text, encoding="utf-8")
    return {"BACKCHANNEL_CONFIG": str(path)}


@pytest.mark.parametrize("text, message", [
    ('log_level = "INFO"\nsmtp_ulr = "smtp://x"\n',
     ":2: `smtp_ulr`: unknown key; did you mean `smtp_url`?"),
    ('allow_private_adresses = true\n',
     ":1: `allow_private_adresses`: unknown key; did you mean `allow_private_addresses`?"),
    ('[[alert_rule]]\nname = "desk"\n', ":1: `alert_rule`: unknown table; did you mean "
     "`alert_rules`?"),
    ('# retries\n\nzebra = 1\n', ":3: `zebra`: unknown key"),
    ("download_timeout = true\n", ":1: `download_timeout` must be a number above 0, not true"),
    ('download_timeout = "30"\n', "must be a number above 0, not '30'"),
    ("retry_times = 1.5\n", "`retry_times` must be a whole number of at least 0, not 1.5"),
    ("health_port = 65536\n", "`health_port` must be a whole number from 1 to 65535"),
    ('obey_robots_txt = "yes"\n', "`obey_robots_txt` must be true or false, not 'yes'"),
    ("user_agent = 7\n", "`user_agent` must be a string, not 7"),
    ('log_level = "chatty"\n', "`log_level` must be one of DEBUG"),
    ("digest_minutes = 15\n", "`digest_minutes` must be a table of numbers"),
    ("\n[digest_minutes]\nemail = -1\n", ":2: `digest_minutes` must map names to numbers"),
    ('alert_rules = "desk"\n', "`alert_rules` must be an array of tables"),
    ("keep_jobs = -1\n", "`keep_jobs` must be a number of at least 0"),
    ("min_interval_minutes = 40\n", "min_interval_minutes (`min_interval_minutes` in "),
])
def test_a_mistake_in_the_configuration_file_names_key_file_and_line(tmp_path, text,
                                                                      message):
    env = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert message in str(error.value)
    assert str(tmp_path / "backchannel.toml") in str(error.value)


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe\x00binary\x00", "not a text file (not UTF-8)"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b"a = = 1", "not valid TOML"),
])
def test_an_unreadable_configuration_file_is_one_line(tmp_path, content, message):
    path = tmp_path / "backchannel.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as error:
        load_settings({"BACKCHANNEL_CONFIG": str(path)})
    assert message in str(error.value) and "BACKCHANNEL_CONFIG" in str(error.value)
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings({"BACKCHANNEL_CONFIG": str(tmp_path)})


def test_unknown_variables_are_warnings_with_the_nearest_name():
    settings = load_settings({"BACKCHANNEL_SMPT_URL": "smtp://x", "BACKCHANNEL_ZZZ": "1",
                              "BACKCHANNEL_SHARED": "/data", "PATH": "/bin"})
    assert settings.smtp_url is None  # not taken for smtp_url
    assert settings.warnings == [
        "BACKCHANNEL_SMPT_URL: unknown variable, ignored; did you mean BACKCHANNEL_SMTP_URL?",
        "BACKCHANNEL_ZZZ: unknown variable, ignored",
    ]


def test_good_values_are_taken_and_say_where_they_came_from(tmp_path):
    env = config_file(tmp_path, 'log_level = "debug"\nemail_to = ["a@x.org", "b@x.org"]\n'
                                "health_port = 9200\nweb_token = \"from-file\"\n"
                                "[digest_minutes]\nemail = 15\n")
    settings = load_settings({**env, "BACKCHANNEL_HEALTH_PORT": "9300",
                              "BACKCHANNEL_DOWNLOAD_TIMEOUT": "2.5",
                              "BACKCHANNEL_ADAPTIVE_INTERVALS": "off",
                              "BACKCHANNEL_DATABASE_URL": ""})
    assert (settings.log_level, settings.email_to, settings.health_port) == (
        "DEBUG", "a@x.org,b@x.org", 9300)
    assert (settings.download_timeout, settings.adaptive_intervals) == (2.5, False)
    assert settings.digest_minutes == {"email": 15.0}
    assert settings.database_url is None
    assert settings.extra == {"web_token": "from-file"}
    assert settings.origin("health_port") == "BACKCHANNEL_HEALTH_PORT"
    assert settings.origin("log_level") == f"`log_level` in {tmp_path / 'backchannel.toml'}:1"
    assert settings.origin("retry_times") == "the default"
    assert settings.warnings == []
