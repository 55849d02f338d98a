"""probe_dns against a real DNS server in the test process, and the real system resolver.

How the resolvers are pointed at the test servers:
- DNS (dnspython): `probe_dns(..., nameservers=[address], port=port)` sends every question to a
  `tests.dnsserver.DnsServer` listening on a random loopback address and port in this process
  (real UDP packets, real dnspython messages). `resolv_conf=` points the "configured servers"
  path at a temporary resolv.conf (used here for "no DNS server configured").
- The system resolver (getaddrinfo) cannot be given a server: it reads /etc/hosts and
  /etc/resolv.conf, and the machine's real DNS server must not be asked. So these tests pass
  `system_resolver=False` and a temporary `hosts_file=`; the tests that need the real
  getaddrinfo run the probe in a subprocess under `unshare --mount --net`: a private network
  namespace (only its own loopback exists) and a private mount namespace where a temporary hosts
  file and a resolv.conf saying `nameserver 127.0.0.1` are bind-mounted over /etc/hosts and
  /etc/resolv.conf, with the test DNS server on 127.0.0.1:53 inside. They need root; without
  it they are skipped, saying so.

Addresses inside DNS answers come from the documentation ranges (198.51.100.0/24, 2001:db8::/32):
they are data the probe reads, never connected to.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dnsserver import Behaviour, DnsServer
from tests.netutil import closed_port, random_loopback
from tui.probes import hostsfile
from tui.probes.base import ProbeResult, is_json_safe
from tui.probes.dns import DnsResult, DnsStatus, Finding, probe_dns

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 2.0
SHORT = 0.5
SLACK_MS = 300  # scheduling noise on a busy machine; the bound itself is the point


@pytest.fixture
def server(loopback: str) -> Iterator[DnsServer]:
    dns_server = DnsServer(loopback)
    dns_server.add("db.corp.test", "A", "198.51.100.7")
    dns_server.add("db.corp.test", "AAAA", "2001:db8::7")
    dns_server.add_ptr("198.51.100.7", "db.corp.test")
    dns_server.add_ptr("2001:db8::7", "db.corp.test")
    dns_server.add("listener.corp.test", "A", "198.51.100.20", "198.51.100.21")
    dns_server.add("alias.corp.test", "CNAME", "db.corp.test.")
    dns_server.add("moved.corp.test", "A", "198.51.100.30")
    dns_server.add_ptr("198.51.100.30", "old-sql.corp.test")
    dns_server.add("noptr.corp.test", "A", "198.51.100.40")
    dns_server.add("textonly.corp.test", "TXT", '"no address here"')
    dns_server.add("loop.corp.test", "A", "127.0.0.5")
    dns_server.add("localhost", "A", "127.0.0.1")
    with dns_server.running():
        yield dns_server


@pytest.fixture
def no_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text("# empty\n", encoding="ascii")
    return path


def ask(server: DnsServer, hosts: Path, timeout: float = TIMEOUT) -> Callable[..., Any]:
    async def run(host: str, **options: Any) -> DnsResult:
        options.setdefault("hosts_file", hosts)
        return await probe_dns(
            host,
            timeout=timeout,
            nameservers=[server.address],
            port=server.port,
            system_resolver=False,
            **options,
        )

    return run


async def test_a_and_aaaa_resolve_ipv6_first_and_map_back(
    server: DnsServer, no_hosts: Path
) -> None:
    result = await ask(server, no_hosts)("db.corp.test")

    assert result.status is DnsStatus.RESOLVED
    assert result.addresses == ("2001:db8::7", "198.51.100.7")
    assert [(f.rdtype, f.values) for f in result.forward] == [
        ("AAAA", ("2001:db8::7",)),
        ("A", ("198.51.100.7",)),
    ]
    assert [(r.address, r.names, r.matches) for r in result.reverse] == [
        ("2001:db8::7", ("db.corp.test",), True),
        ("198.51.100.7", ("db.corp.test",), True),
    ]
    assert result.findings == ()
    assert result.summary() == "db.corp.test resolves to 2001:db8::7, 198.51.100.7"
    assert ("db.corp.test", "A") in server.queries and ("db.corp.test", "AAAA") in server.queries


async def test_a_cname_is_followed_and_the_reverse_name_matches_it(
    server: DnsServer, no_hosts: Path
) -> None:
    result = await ask(server, no_hosts)("alias.corp.test")
    assert result.status is DnsStatus.RESOLVED
    assert result.forward[1].canonical_name == "db.corp.test"
    assert all(r.matches for r in result.reverse)
    assert Finding.REVERSE_MISMATCH not in result.findings


async def test_nxdomain(server: DnsServer, no_hosts: Path) -> None:
    result = await ask(server, no_hosts)("gone.corp.test")
    assert result.status is DnsStatus.NXDOMAIN
    assert result.addresses == ()
    assert "11001 WSAHOST_NOT_FOUND" in result.summary()


async def test_a_name_without_addresses_is_no_answer(server: DnsServer, no_hosts: Path) -> None:
    result = await ask(server, no_hosts)("textonly.corp.test")
    assert result.status is DnsStatus.NO_ANSWER
    assert {f.status for f in result.forward} == {DnsStatus.NO_ANSWER}
    assert "11004 WSANO_DATA" in result.summary()


async def test_a_server_that_never_answers_times_out_within_the_budget(
    server: DnsServer, no_hosts: Path
) -> None:
    server.behaviours["slow.corp.test"] = Behaviour.SILENT
    result = await ask(server, no_hosts, timeout=SHORT)("slow.corp.test")
    assert result.status is DnsStatus.TIMEOUT
    assert SHORT * 1000 * 0.9 <= result.elapsed_ms <= SHORT * 1000 + SLACK_MS
    assert f"did not answer for slow.corp.test within {SHORT:g} s" in result.summary()


async def test_no_server_on_the_port_is_a_timeout(loopback: str, no_hosts: Path) -> None:
    # dnspython's UDP socket is not connected, so the ICMP port-unreachable goes unseen.
    result = await probe_dns(
        "db.corp.test",
        timeout=SHORT,
        nameservers=[loopback],
        port=closed_port(loopback),
        hosts_file=no_hosts,
        system_resolver=False,
    )
    assert result.status is DnsStatus.TIMEOUT
    assert result.elapsed_ms <= SHORT * 1000 + SLACK_MS


async def test_servfail_is_an_error_naming_the_rcode(server: DnsServer, no_hosts: Path) -> None:
    server.behaviours["broken.corp.test"] = Behaviour.SERVFAIL
    result = await ask(server, no_hosts)("broken.corp.test")
    assert result.status is DnsStatus.ERROR
    assert "answered SERVFAIL" in result.summary()


@pytest.mark.parametrize("behaviour", [Behaviour.GARBAGE, Behaviour.TRUNCATED])
async def test_hostile_answers_end_within_the_budget(
    server: DnsServer, no_hosts: Path, behaviour: Behaviour
) -> None:
    server.behaviours["hostile.corp.test"] = behaviour
    result = await ask(server, no_hosts, timeout=SHORT)("hostile.corp.test")
    assert result.status in (DnsStatus.ERROR, DnsStatus.TIMEOUT)
    assert result.elapsed_ms <= SHORT * 1000 + SLACK_MS
    assert is_json_safe(result.evidence())


async def test_truncated_answers_are_named(server: DnsServer, no_hosts: Path) -> None:
    server.behaviours["big.corp.test"] = Behaviour.TRUNCATED
    result = await ask(server, no_hosts)("big.corp.test")
    # dnspython retries over TCP, where nothing listens on the test server's port.
    assert result.status is DnsStatus.ERROR
    assert "truncated" in result.forward[0].detail
    assert "over TCP" in result.forward[0].detail


async def test_a_reverse_name_for_another_machine_is_flagged(
    server: DnsServer, no_hosts: Path
) -> None:
    result = await ask(server, no_hosts)("moved.corp.test")
    assert Finding.REVERSE_MISMATCH in result.findings
    (reverse,) = result.reverse
    assert (reverse.names, reverse.matches) == (("old-sql.corp.test",), False)
    assert "ping -a disagrees" in result.summary()


async def test_a_missing_reverse_record_is_reported_not_flagged(
    server: DnsServer, no_hosts: Path
) -> None:
    result = await ask(server, no_hosts)("noptr.corp.test")
    assert result.reverse[0].status is DnsStatus.NXDOMAIN
    assert result.findings == ()


async def test_several_addresses_hint_at_a_listener(server: DnsServer, no_hosts: Path) -> None:
    result = await ask(server, no_hosts)("listener.corp.test")
    assert Finding.MULTIPLE_ADDRESSES in result.findings
    assert "MultiSubnetFailover=True" in result.summary()
    single = await ask(server, no_hosts)("db.corp.test")  # one IPv4 and one IPv6: dual stack
    assert Finding.MULTIPLE_ADDRESSES not in single.findings


async def test_loopback_for_a_remote_name_is_flagged(server: DnsServer, no_hosts: Path) -> None:
    remote = await ask(server, no_hosts)("loop.corp.test")
    assert Finding.LOOPBACK_FOR_REMOTE_NAME in remote.findings
    local = await ask(server, no_hosts)("localhost")
    assert local.status is DnsStatus.RESOLVED
    assert Finding.LOOPBACK_FOR_REMOTE_NAME not in local.findings


async def test_ip_literals_skip_dns(server: DnsServer, no_hosts: Path) -> None:
    for literal, address in (("198.51.100.7", "198.51.100.7"), ("[2001:db8::7]", "2001:db8::7")):
        result = await ask(server, no_hosts)(literal)
        assert result.status is DnsStatus.LITERAL
        assert result.addresses == (address,)
    assert server.queries == []


async def test_a_hosts_file_override_is_flagged(server: DnsServer, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n198.51.100.99\tDB.corp.test.  # moved\n", "ascii")
    result = await ask(server, hosts)("db.corp.test")

    assert result.hosts_addresses == ("198.51.100.99",)
    assert result.addresses == ("198.51.100.99",)  # the hosts file wins, as on every platform
    assert set(result.dns_addresses) == {"198.51.100.7", "2001:db8::7"}
    assert Finding.HOSTS_FILE_OVERRIDE in result.findings
    assert "the hosts file overrides DNS" in result.summary()


async def test_a_hosts_entry_that_agrees_is_still_mentioned(
    server: DnsServer, tmp_path: Path
) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("198.51.100.7 db.corp.test\n", "ascii")
    result = await ask(server, hosts)("db.corp.test")
    assert result.findings == (Finding.HOSTS_FILE_ENTRY,)


async def test_a_name_only_the_hosts_file_knows_resolves(server: DnsServer, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("198.51.100.50 legacy.corp.test legacy\n", "ascii")
    result = await ask(server, hosts)("legacy")
    assert result.dns_status is DnsStatus.NXDOMAIN
    assert result.status is DnsStatus.RESOLVED
    assert result.addresses == ("198.51.100.50",)
    assert Finding.HOSTS_FILE_OVERRIDE in result.findings


async def test_an_unreadable_hosts_file_is_reported(server: DnsServer, tmp_path: Path) -> None:
    result = await ask(server, tmp_path / "missing")("db.corp.test")
    assert result.status is DnsStatus.RESOLVED
    assert result.hosts_error is not None and "cannot read the hosts file" in result.hosts_error


async def test_no_nameserver_configured(tmp_path: Path, no_hosts: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search corp.test\noptions ndots:1\n", "ascii")
    for path in (resolv, tmp_path / "absent.conf"):
        result = await probe_dns(
            "db.corp.test",
            timeout=TIMEOUT,
            resolv_conf=path,
            hosts_file=no_hosts,
            system_resolver=False,
        )
        assert result.status is DnsStatus.NO_NAMESERVER
        assert result.nameservers == ()
        assert "no DNS server configured" in result.summary()


async def test_a_nameserver_that_is_not_an_address_is_an_error(no_hosts: Path) -> None:
    result = await probe_dns(
        "db.corp.test",
        timeout=TIMEOUT,
        nameservers=["dns.corp.test"],
        hosts_file=no_hosts,
        system_resolver=False,
    )
    assert result.status is DnsStatus.ERROR
    assert "bad DNS server setting" in result.summary()


@pytest.mark.parametrize(
    "host", ["", " ", "a" * 64 + ".corp.test", "x." * 130, "bad name!", "db..corp", "nul\x00l"]
)
async def test_names_dns_cannot_carry_do_not_raise(
    server: DnsServer, no_hosts: Path, host: str
) -> None:
    result = await ask(server, no_hosts)(host)
    assert result.status in set(DnsStatus)
    assert is_json_safe(result.evidence())


async def test_the_result_is_a_probe_result_with_json_evidence(
    server: DnsServer, no_hosts: Path
) -> None:
    result: ProbeResult = await ask(server, no_hosts)("listener.corp.test")
    evidence = json.loads(json.dumps(result.evidence()))
    assert evidence == result.evidence()
    assert evidence["status"] == "RESOLVED"
    assert evidence["findings"] == ["MULTIPLE_ADDRESSES"]
    assert evidence["system"]["status"] == "SKIPPED"
    assert evidence["hosts_file"]["path"] == str(no_hosts)


# --- hostile answers (Hypothesis) -------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[DnsServer]:
    dns_server = DnsServer(random_loopback())
    with dns_server.running():
        yield dns_server


def _good_answer(wire: bytes) -> bytes:
    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    question = query.question[0]
    rdtype = "AAAA" if question.rdtype == 28 else "A"
    value = "2001:db8::1" if rdtype == "AAAA" else "198.51.100.1"
    response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rdtype, value))
    return response.to_wire()


# Either the query's ID and a response header followed by anything, or a real answer with
# some bytes changed and possibly cut short: both get past the ID check into the parser.
hostile = st.one_of(
    st.binary(max_size=300).map(lambda tail: ("tail", tail, ())),
    st.tuples(
        st.just("mutate"),
        st.binary(max_size=0),
        st.lists(st.tuples(st.integers(0, 80), st.integers(0, 255)), min_size=1, max_size=8),
    ),
    st.tuples(st.just("cut"), st.binary(max_size=0), st.lists(st.integers(0, 80), max_size=1)),
)


def _responder(kind: str, tail: bytes, edits: Any) -> Callable[[bytes], bytes | None]:
    def respond(wire: bytes) -> bytes | None:
        if kind == "tail":
            return wire[:2] + b"\x81\x80" + tail
        good = bytearray(_good_answer(wire))
        if kind == "cut":
            return bytes(good[: edits[0] if edits else 12])
        for index, value in edits:
            if index < len(good):
                good[index] = value
        return bytes(good)

    return respond


@settings(
    max_examples=50,  # dnspython drops most hostile datagrams and waits on: each costs the timeout
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow
@given(answer=hostile)
def test_hostile_answers_never_raise(
    hostile_server: DnsServer, tmp_path: Path, answer: tuple[str, bytes, Any]
) -> None:
    hostile_server.responder = _responder(*answer)
    hosts = tmp_path / "hosts"
    hosts.touch()
    result = asyncio.run(
        probe_dns(
            "db.corp.test",
            timeout=0.15,
            nameservers=[hostile_server.address],
            port=hostile_server.port,
            hosts_file=hosts,
            system_resolver=False,
        )
    )
    assert result.status in set(DnsStatus)
    assert result.elapsed_ms <= 150 + SLACK_MS
    assert is_json_safe(result.evidence())
    result.summary()


# --- the hosts file parser ----------------------------------------------------------------------


def test_hosts_lines_are_read_like_the_system_reads_them() -> None:
    text = textwrap.dedent(
        """\
        # comment 198.51.100.1 db
        127.0.0.1\tlocalhost
        198.51.100.2  DB.Corp.Test.  db   # trailing comment
        not-an-ip db.corp.test
        198.51.100.3
        2001:db8::9 db.corp.test
        198.51.100.2 db.corp.test
        #198.51.100.4 db.corp.test
        """
    )
    assert hostsfile.addresses_for(text, "db.corp.test") == ("198.51.100.2", "2001:db8::9")
    assert hostsfile.addresses_for(text, "DB") == ("198.51.100.2",)
    assert hostsfile.addresses_for(text, "corp.test") == ()


def test_a_notepad_hosts_file_in_utf16_is_read(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes("\ufeff198.51.100.5 db.corp.test\r\n".encode("utf-16-le"))
    assert hostsfile.read_addresses(path, "db.corp.test") == ("198.51.100.5",)


def test_the_windows_hosts_file_lives_under_systemroot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("SYSTEMROOT", "D:\\Windows")
    path = hostsfile.default_path()
    assert path.parts[-4:] == ("System32", "drivers", "etc", "hosts")
    assert str(path).startswith("D:\\Windows")


@given(st.binary(max_size=2000), st.text(max_size=30))
def test_the_hosts_parser_takes_any_bytes(data: bytes, host: str) -> None:
    found = hostsfile.addresses_for(hostsfile.decode(data), host)
    assert all(hostsfile.is_ip_literal(address) for address in found)


names = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True)


@given(st.ip_addresses().map(str), st.lists(names, min_size=1, max_size=4), st.text(max_size=200))
def test_an_entry_is_found_whatever_surrounds_it(
    address: str, aliases: list[str], noise: str
) -> None:
    noise = "\n".join("#" + line for line in noise.splitlines())
    text = f"{noise}\n{address}\t{' '.join(aliases)}  # note\n{noise}"
    for alias in aliases:
        assert address in hostsfile.addresses_for(text, alias.upper() + ".")


# --- the real system resolver, in private namespaces (root only) --------------------------------


def _namespace_reason() -> str | None:
    if sys.platform != "linux":
        return "private mount and network namespaces exist only on Linux"
    if os.geteuid() != 0:
        return f"bind-mounting over /etc/hosts needs root (running as uid {os.geteuid()})"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "`unshare` (util-linux) or `ip` (iproute2) is not installed"
    return None


IN_NAMESPACE = """
import asyncio, json, sys
from tests.dnsserver import DnsServer
from tui.probes.dns import probe_dns

records = json.loads(sys.argv[1])
server = DnsServer("127.0.0.1", port=53)
for name, rdtype, value in records:
    if rdtype == "PTR":
        server.add_ptr(value, name)
    else:
        server.add(name, rdtype, value)

async def main():
    results = {}
    for host in sys.argv[2:]:
        results[host] = (await probe_dns(host, timeout=3.0)).evidence()
    print(json.dumps(results))

if records:
    with server.running():
        asyncio.run(main())
else:
    asyncio.run(main())
"""

RECORDS = [
    ("db.corp.test", "A", "198.51.100.7"),
    ("db.corp.test", "PTR", "198.51.100.7"),
    ("sql2.corp.test", "A", "198.51.100.8"),
    ("sql2.corp.test", "AAAA", "2001:db8::8"),
    ("sql2.corp.test", "PTR", "198.51.100.8"),
    ("sql2.corp.test", "PTR", "2001:db8::8"),
]


def in_private_namespaces(
    tmp_path: Path, hosts: str, resolv: str, *names: str, records: Any = RECORDS
) -> dict[str, Any]:
    """Run probe_dns with the defaults, seeing `hosts` and `resolv` as /etc/hosts, resolv.conf."""
    reason = _namespace_reason()
    if reason is not None:
        pytest.skip(reason)
    (tmp_path / "hosts").write_text(hosts, "ascii")
    (tmp_path / "resolv.conf").write_text(resolv, "ascii")
    shell = (
        'ip link set lo up && mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf'
        ' && shift 2 && exec "$@"'
    )
    command = [
        "unshare", "--mount", "--net", "--", "sh", "-c", shell, "sh",
        str(tmp_path / "hosts"), str(tmp_path / "resolv.conf"),
        sys.executable, "-c", IN_NAMESPACE, json.dumps(records), *names,
    ]  # fmt: skip
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    if completed.returncode != 0 and "unshare failed" in completed.stderr:
        pytest.skip(f"cannot create private namespaces here: {completed.stderr.strip()}")
    assert completed.returncode == 0, completed.stderr
    results: dict[str, Any] = json.loads(completed.stdout)
    return results


def test_getaddrinfo_really_sees_a_hosts_file_override(tmp_path: Path) -> None:
    results = in_private_namespaces(
        tmp_path,
        "127.0.0.1 localhost\n198.51.100.99 db.corp.test\n198.51.100.50 legacy.corp.test\n",
        "nameserver 127.0.0.1\n",
        "db.corp.test",
        "sql2.corp.test",
        "legacy.corp.test",
    )
    db = results["db.corp.test"]
    assert db["system"]["status"] == "RESOLVED"
    assert db["system"]["addresses"] == ["198.51.100.99"]
    assert [f["values"] for f in db["forward"]] == [[], ["198.51.100.7"]]
    assert db["hosts_file"] == {"path": "/etc/hosts", "addresses": ["198.51.100.99"], "error": None}
    assert db["addresses"] == ["198.51.100.99"]
    assert "HOSTS_FILE_OVERRIDE" in db["findings"]

    # Not in the hosts file: getaddrinfo asked the test DNS server, and both agree.
    sql2 = results["sql2.corp.test"]
    assert sql2["system"]["status"] == "RESOLVED"
    assert set(sql2["system"]["addresses"]) == {"198.51.100.8", "2001:db8::8"}
    assert sql2["addresses"] == ["2001:db8::8", "198.51.100.8"]
    assert sql2["findings"] == []
    assert all(reverse["matches"] for reverse in sql2["reverse"])

    legacy = results["legacy.corp.test"]
    assert legacy["status"] == "RESOLVED"
    assert legacy["dns_status"] == "NXDOMAIN"
    assert "HOSTS_FILE_OVERRIDE" in legacy["findings"]


def test_a_short_name_gets_the_dns_suffix_both_ways(tmp_path: Path) -> None:
    results = in_private_namespaces(
        tmp_path, "127.0.0.1 localhost\n", "nameserver 127.0.0.1\nsearch corp.test\n", "sql2"
    )
    sql2 = results["sql2"]
    assert sql2["status"] == "RESOLVED"
    assert sql2["forward"][1]["qname"] == "sql2.corp.test"
    assert set(sql2["system"]["addresses"]) == {"198.51.100.8", "2001:db8::8"}
    assert sql2["findings"] == []
    assert all(reverse["matches"] for reverse in sql2["reverse"])


def test_no_nameserver_in_resolv_conf_for_real(tmp_path: Path) -> None:
    results = in_private_namespaces(
        tmp_path, "127.0.0.1 localhost\n", "", "db.corp.test", records=[]
    )
    db = results["db.corp.test"]
    assert db["status"] == "NO_NAMESERVER"
    assert db["system"]["status"] != "RESOLVED"
    assert db["nameservers"] == []


def test_glibc_without_a_nameserver_asks_this_machine(tmp_path: Path) -> None:
    # An empty resolv.conf means "127.0.0.1" to glibc, not "no DNS": a local resolver answers.
    results = in_private_namespaces(tmp_path, "127.0.0.1 localhost\n", "", "db.corp.test")
    db = results["db.corp.test"]
    assert db["dns_status"] == "NO_NAMESERVER"
    assert db["system"]["addresses"] == ["198.51.100.7"]
    assert db["status"] == "RESOLVED"
