"""Two network namespaces joined by a slow, lossy link: a delay line in Python between two TUN
devices, standing in for `tc netem`, which this kernel lacks (CONFIG_NET_SCH_NETEM is not set).

`pair(Link(delay=0.1, jitter=0.025, loss=0.01))` gives what `tc qdisc add dev X root netem delay
100ms 25ms loss 1%` on both ends gives: every packet, each way, waits 100 ms give or take up to
25 ms (uniform, so packets may overtake each other, as under netem with jitter) and 1% are lost:
a 200 ms round trip with 50 ms of jitter. `first_syn_lost` also drops the first SYN of every
connection to one port (its resend, from the same source port, passes): the case where only the
kernel's retransmission can still get an answer.

The namespaces are those of `tests.netns` (same names, same sweeping of leftovers, IPv4 and IPv6
from random private prefixes, no route anywhere else); only the link differs. Both TUN devices
are created inside the server namespace by the delay-line process, and one is moved into the
client namespace: nothing is ever created on the host. Linux and root only.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import random
import secrets
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from tests import netns

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


@dataclass(frozen=True)
class Link:
    delay: float = 0.1  # s each way
    jitter: float = 0.025  # s each way, uniform
    loss: float = 0.01  # each way
    first_syn_lost: int | None = None  # a port: the first SYN of each connection to it is lost


def unavailable_reason() -> str | None:
    reason = netns.unavailable_reason()
    if reason is None and not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (no TUN support)"
    return reason


@contextlib.contextmanager
def pair(link: Link) -> Iterator[netns.Pair]:
    """A client and a server namespace on a delay line; removed afterwards, whatever happens."""
    netns.sweep_stale()
    token = secrets.token_hex(4)
    names = (f"{netns.PREFIX}-{os.getpid()}-{token}-c", f"{netns.PREFIX}-{os.getpid()}-{token}-s")
    subnet = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    prefix = f"fd{secrets.token_hex(1)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    client = netns.Namespace(names[0], f"sqc{token}", f"{subnet}.1", f"{prefix}::1")
    server = netns.Namespace(names[1], f"sqs{token}", f"{subnet}.2", f"{prefix}::2")
    net = netns.Pair(client, server, subnet, prefix)
    try:
        for name in names:
            _run("ip", "netns", "add", name)
        net.spawn(
            server,
            sys.executable,
            "-m",
            "tests.slowlink",
            client.interface,
            server.interface,
            client.name,
            repr(link.delay),
            repr(link.jitter),
            repr(link.loss),
            str(link.first_syn_lost or 0),
        )
        for this in (client, server):
            ns, dev = this.name, this.interface
            _run("ip", "-n", ns, "link", "set", "lo", "up")
            _run("ip", "-n", ns, "addr", "add", f"{this.ipv4}/24", "dev", dev)
            _run("ip", "-n", ns, "addr", "add", f"{this.ipv6}/64", "dev", dev, "nodad")
            _run("ip", "-n", ns, "link", "set", dev, "up")
        yield net
    finally:
        for process in net.processes:
            netns._stop(process)
        for name in names:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")


# -- the delay line (runs in the server namespace) -------------------------------------------


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def _first_syn_key(packet: bytes, port: int) -> tuple[bytes, int] | None:
    """(addresses, source port) of a bare SYN to `port`, IPv4 or IPv6 without extension
    headers: a resend carries the same key, a new connection another."""
    version = packet[0] >> 4
    if version == 4 and len(packet) >= 20:
        offset, protocol, addresses = (packet[0] & 0x0F) * 4, packet[9], packet[12:20]
    elif version == 6 and len(packet) >= 40:
        offset, protocol, addresses = 40, packet[6], packet[8:40]
    else:
        return None
    if protocol != 6 or len(packet) < offset + 14:
        return None
    source, destination = struct.unpack_from("!HH", packet, offset)
    syn_only = packet[offset + 13] & 0x12 == 0x02  # SYN set, ACK not
    return (addresses, source) if destination == port and syn_only else None


async def _delay_line(
    client_dev: str, server_dev: str, client_ns: str, link: Link, randomness: random.Random
) -> None:
    client_fd, server_fd = _open_tun(client_dev), _open_tun(server_dev)
    _run("ip", "link", "set", client_dev, "netns", client_ns)
    loop = asyncio.get_running_loop()
    seen: set[tuple[bytes, int]] = set()  # connections whose first SYN was dropped

    def forward(source: int, target: int) -> None:
        while True:
            try:
                packet = os.read(source, 65_536)
            except BlockingIOError:
                return
            if randomness.random() < link.loss:
                continue
            if link.first_syn_lost and source == client_fd:
                key = _first_syn_key(packet, link.first_syn_lost)
                if key is not None and key not in seen:
                    seen.add(key)
                    continue
            wait = link.delay + randomness.uniform(-link.jitter, link.jitter)
            loop.call_later(max(0.0, wait), _write, target, packet)

    loop.add_reader(client_fd, forward, client_fd, server_fd)
    loop.add_reader(server_fd, forward, server_fd, client_fd)
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes standard input


def _write(fd: int, packet: bytes) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, packet)


if __name__ == "__main__":
    client_dev, server_dev, client_ns, delay, jitter, loss, syn_port = sys.argv[1:8]
    line = Link(float(delay), float(jitter), float(loss), int(syn_port) or None)
    asyncio.run(_delay_line(client_dev, server_dev, client_ns, line, random.Random()))
