"""Private network namespaces for tests that need a real network path and a real firewall.

`pair()` creates two namespaces, a client and a server, joined by a veth pair created straight
inside them (it never exists on the host), with IPv4 and IPv6 addresses from random private
prefixes that exist only there. Neither namespace has a route anywhere else, so no packet a test
sends can reach the host's real interfaces. nftables rules go into the server namespace
(`Namespace.nft`), commands and Python code run inside either one (`run`, `python`), and long
running servers are started with `Pair.spawn` and stopped at the end.

Everything is removed when the `with` block ends, also when it ends with an exception; names
carry the creating process id, so namespaces left behind by a killed test run are swept away by
the next run. Linux and root only: `unavailable_reason()` says why not, for a skip message.

For a whole `sqlreach check` inside the client namespace:
    with netns.pair() as net:
        net.client.run(sys.executable, "-m", "tui", "check", "--json", f"{net.server.ipv4},1433")
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import selectors
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "sqlreach"
_NAME = re.compile(rf"^{PREFIX}-(?P<pid>\d+)-[0-9a-f]+-[cs]$")


def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if sys.platform != "linux":
        return "network namespaces exist only on Linux"
    if os.geteuid() != 0:
        return f"creating network namespaces needs root (running as uid {os.geteuid()})"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian package {package})"
    return None


@dataclass(frozen=True)
class Namespace:
    name: str
    interface: str
    ipv4: str
    ipv6: str

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(
        self, *argv: str, stdin: str | None = None, timeout: float = 30.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            self.command(*argv),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=ROOT,
        )
        if check and completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} in {self.name} exited {completed.returncode}: "
                f"{completed.stderr.strip()}"
            )
        return completed

    def python(self, code: str, *args: str, timeout: float = 30.0) -> str:
        """Run Python code (this interpreter, the repository importable) here; its stdout."""
        return self.run(sys.executable, "-c", textwrap.dedent(code), *args, timeout=timeout).stdout

    def nft(self, ruleset: str) -> None:
        """Load an nftables ruleset (the `nft -f` syntax) into this namespace."""
        self.run("nft", "-f", "-", stdin=textwrap.dedent(ruleset))


@dataclass
class Pair:
    client: Namespace
    server: Namespace
    subnet_v4: str  # the first three octets, e.g. "10.17.4"
    prefix_v6: str  # e.g. "fd3c:12ab:9f00"
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def spawn(
        self, namespace: Namespace, *argv: str, ready: str = "ready", timeout: float = 10.0
    ) -> subprocess.Popen[str]:
        """Start a long-running process in `namespace`; wait for a stdout line saying `ready`."""
        process = subprocess.Popen(
            namespace.command(*argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.processes.append(process)
        line = _readline(process, timeout)
        if ready not in line:
            raise RuntimeError(f"{argv[0]} in {namespace.name} did not start: {line!r}")
        return process

    def listen(self, ports: Sequence[int]) -> subprocess.Popen[str]:
        """TCP listeners on the server's IPv4 and IPv6 address that accept and hold connections."""
        return self.spawn(
            self.server,
            sys.executable,
            "-c",
            _LISTENER,
            self.server.ipv4,
            self.server.ipv6,
            *map(str, ports),
        )

    def unused_v4(self) -> str:
        """An address on the link where nobody answers ARP."""
        return f"{self.subnet_v4}.3"

    def unrouted_v4(self) -> str:
        """An address no route in the client namespace leads to."""
        octets = self.subnet_v4.split(".")
        return f"{octets[0]}.{octets[1]}.{(int(octets[2]) + 1) % 256}.2"

    def unrouted_v6(self) -> str:
        head, middle, last = self.prefix_v6.split(":")
        return f"{head}:{middle}:{(int(last, 16) + 1) % 0x10000:x}::2"


@contextlib.contextmanager
def pair() -> Iterator[Pair]:
    """A client and a server namespace on one private link; removed afterwards, whatever happens."""
    sweep_stale()
    token = secrets.token_hex(4)
    names = (f"{PREFIX}-{os.getpid()}-{token}-c", f"{PREFIX}-{os.getpid()}-{token}-s")
    subnet = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    prefix = f"fd{secrets.token_hex(1)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    client = Namespace(names[0], f"sqc{token}", f"{subnet}.1", f"{prefix}::1")
    server = Namespace(names[1], f"sqs{token}", f"{subnet}.2", f"{prefix}::2")
    net = Pair(client, server, subnet, prefix)
    try:
        _create(client, server)
        yield net
    finally:
        for process in net.processes:
            _stop(process)
        for name in names:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def existing() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]


def sweep_stale() -> None:
    """Delete namespaces this module created in processes that no longer exist."""
    for name in existing():
        match = _NAME.match(name)
        if match and not _alive(int(match["pid"])):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
            shutil.rmtree(Path("/etc/netns") / name, ignore_errors=True)


def _create(client: Namespace, server: Namespace) -> None:
    macs = [_mac(), _mac()]
    steps = [
        ["ip", "netns", "add", client.name],
        ["ip", "netns", "add", server.name],
        # Both ends are born inside their namespaces: the pair never touches the host.
        ["ip", "-n", client.name, "link", "add", client.interface, "address", macs[0],
         "type", "veth", "peer", "name", server.interface, "address", macs[1],
         "netns", server.name],
    ]  # fmt: skip
    for this, other, mac in ((client, server, macs[1]), (server, client, macs[0])):
        ns, dev = this.name, this.interface
        steps += [
            ["ip", "-n", ns, "link", "set", "lo", "up"],
            ["ip", "-n", ns, "addr", "add", f"{this.ipv4}/24", "dev", dev],
            ["ip", "-n", ns, "addr", "add", f"{this.ipv6}/64", "dev", dev, "nodad"],
            ["ip", "-n", ns, "link", "set", dev, "up"],
            # Static neighbours: no ARP or neighbour discovery delays the first packet.
            ["ip", "-n", ns, "neigh", "add", other.ipv4, "lladdr", mac, "dev", dev,
             "nud", "permanent"],
            ["ip", "-n", ns, "neigh", "add", other.ipv6, "lladdr", mac, "dev", dev,
             "nud", "permanent"],
        ]  # fmt: skip
    for step in steps:
        completed = subprocess.run(step, capture_output=True, text=True, timeout=30, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(step)} failed: {completed.stderr.strip()}")


def _mac() -> str:
    return "02:" + ":".join(secrets.token_hex(1) for _ in range(5))  # locally administered


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _readline(process: subprocess.Popen[str], timeout: float) -> str:
    """One stdout line, or an empty string when none comes within `timeout` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


# Accept on every port of both addresses and keep the connections open until stdin closes.
_LISTENER = """
import selectors, socket, sys
ipv4, ipv6, *ports = sys.argv[1:]
selector = selectors.DefaultSelector()
for address, family in ((ipv4, socket.AF_INET), (ipv6, socket.AF_INET6)):
    for port in ports:
        server = socket.socket(family, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((address, int(port)))
        server.listen(64)
        selector.register(server, selectors.EVENT_READ)
selector.register(sys.stdin, selectors.EVENT_READ)
print("ready", flush=True)
held = []
while True:
    for key, _ in selector.select():
        if key.fileobj is sys.stdin:
            raise SystemExit(0)
        connection, _ = key.fileobj.accept()
        held.append(connection)
"""


@contextlib.contextmanager
def alone(resolv: str | None = None) -> Iterator[Namespace]:
    """One namespace with only its own loopback, for a client and a lab that meet there. With
    `resolv` (a resolv.conf text), `ip netns exec` gives programs inside that file as
    /etc/resolv.conf (iproute2 bind-mounts /etc/netns/NAME/*): the system resolver, and so
    ODBC Driver 18, asks the lab's own DNS server and nothing outside."""
    sweep_stale()
    token = secrets.token_hex(4)
    name = f"{PREFIX}-{os.getpid()}-{token}-c"
    space = Namespace(name, "lo", "127.0.0.1", "::1")
    config = Path("/etc/netns") / name
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=30)
        subprocess.run(
            ["ip", "-n", name, "link", "set", "lo", "up"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        if resolv is not None:
            config.mkdir(parents=True, exist_ok=True)
            (config / "resolv.conf").write_text(resolv, encoding="utf-8")
            (config / "hosts").write_text("127.0.0.1 localhost\n", encoding="utf-8")
        yield space
    finally:
        shutil.rmtree(config, ignore_errors=True)
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
