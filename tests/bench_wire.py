"""Parse speed of the wire codecs (operations per second): `python -m tests.bench_wire`.

Measured, not asserted: machines are noisy. The inputs are the observed FreeTDS PRELOGIN, a
login reply as the lab sends it, a 100-row result set, a 65,535-byte Browser answer and a LOGIN7.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

from tui.wire import login7, prelogin, ssrp, tokens

FREETDS_PRELOGIN = (
    bytes.fromhex(
        "00 00 1a 00 06 01 00 20 00 01 02 00 21 00 0c 03 00 2d 00 04 04 00 31 00 01 ff"
        "09 00 00 00 00 00"
    )
    + b"\x00MSSQLServer\x00"
    + bytes.fromhex("27 1e 00 00 00")
)
LOGIN_REPLY = (
    tokens.env_database("master", "master")
    + tokens.info(5701, "Changed database context to 'master'.", server="LAB")
    + tokens.env_language("us_english")
    + tokens.info(5703, "Changed language setting to us_english.", server="LAB")
    + tokens.env_collation()
    + tokens.env_packet_size(4096, 4096)
    + tokens.login_ack()
    + tokens.done(0)
)
RESULT_SET = tokens.result_set(
    ["name", "state_desc", "recovery_model_desc", "compatibility_level", "collation_name"],
    [[f"db{i}", "ONLINE", "FULL", "160", "SQL_Latin1_General_CP1_CI_AS"] for i in range(100)],
) + tokens.done(tokens.DONE_COUNT, 100)
BROWSER = ssrp.build_response(
    [
        ssrp.Instance(
            "SERVER01",
            f"INST{i:04d}",
            False,
            "16.0.1000.6",
            tcp_port=50_000 + i,
            pipe=f"\\\\SERVER01\\pipe\\MSSQL$INST{i:04d}\\sql\\query",
        )
        for i in range(560)
    ][: 65_535 // 135]
)
LOGIN7 = login7.build_login7(
    user="sa",
    password="Pa55w0rd!",
    database="master",
    host_name="WS01",
    server_name="SQL01",
    client_pid=1,
)


def rate(function: Callable[[], object]) -> float:
    timer = timeit.Timer(function)
    count, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=count))
    return count / best


def main() -> None:
    client = prelogin.parse_prelogin(FREETDS_PRELOGIN)
    cases: list[tuple[str, int, Callable[[], object]]] = [
        (
            "parse_prelogin (FreeTDS request)",
            len(FREETDS_PRELOGIN),
            lambda: prelogin.parse_prelogin(FREETDS_PRELOGIN),
        ),
        (
            "build_server_answer",
            0,
            lambda: prelogin.build_server_answer(
                client, version=(16, 0, 1000, 6), encryption=prelogin.Encryption.OFF
            ),
        ),
        (
            "parse_tokens (login reply, 8 tokens)",
            len(LOGIN_REPLY),
            lambda: tokens.parse_tokens(LOGIN_REPLY),
        ),
        (
            "parse_tokens (100 rows x 5 NVARCHAR)",
            len(RESULT_SET),
            lambda: tokens.parse_tokens(RESULT_SET),
        ),
        ("parse_login7", len(LOGIN7), lambda: login7.parse_login7(LOGIN7)),
        (
            f"ssrp.parse_response ({len(BROWSER)} bytes)",
            len(BROWSER),
            lambda: ssrp.parse_response(BROWSER),
        ),
    ]
    for name, size, function in cases:
        per_second = rate(function)
        throughput = f"  {per_second * size / 1e6:7.1f} MB/s" if size else ""
        print(f"{name:42s} {per_second:12,.0f} ops/s{throughput}")


if __name__ == "__main__":
    main()
