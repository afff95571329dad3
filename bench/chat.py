"""Benchmark of the live chat's round trip over real websockets; run as `python -m bench.chat`.

Builds a throw-away database `vipsupport_bench_chat` (dropped and re-created on every run, and
dropped again at the end) and uses Redis database 9 (flushed before and after): 40 companies with
the dedicated-agent add-on, 5 customers each, 20 agents (`bench.data.seed_people`); each of the
200 customers opens a chat at the dedicated door and its company's dedicated agent takes it
(`chat.services.conversation_start` and `conversation_take`), so every agent answers 10 chats.
Every customer and agent gets a session in the database's session store (Django's test client's
`force_login`, signed with the server's secret key).

The server is ONE uvicorn process (`vipsupport.asgi:application --workers 1`: uvloop, httptools,
websockets) with the production settings and the production environment the README lists; the
differences for plain HTTP on 127.0.0.1 are `DJANGO_ALLOWED_HOSTS=127.0.0.1` (the sockets' Origin
is `http://127.0.0.1:<port>`) and `DJANGO_SECURE_SSL_REDIRECT=false` (which only HTTP requests
would meet: websockets do not pass Django's middleware). The secure session cookie does not matter
because the bench sends the `Cookie` header itself. The connection pool, the rate limit (20
messages per 10 s per user) and everything else are production's defaults.

This process is the load generator (asyncio, the `websockets` client, with permessage-deflate as
browsers offer it): it opens 200 customer sockets and 200 agent sockets (one per conversation,
`/ws/chat/<id>/?after=0`) and waits for every `ready` frame. Then each customer, in a loop, sends
a message with a fresh `client_id`, waits until the agent's socket of its conversation receives
it (stored in PostgreSQL, broadcast through the Redis channel layer), and thinks 5-15 s
(seeded): a person's pace, about 20 messages/s from the 200. The figure is the 95th percentile
(nearest rank) of send → agent receipt over a 30 s window after a 5 s warm-up; a message not
echoed within 5 s counts as infinitely late. Context on
stderr: p50, p99, max, the sender's ack, messages per second, errors, and the CPU seconds that the
server process (and the PostgreSQL backends of its pool, Redis, this process) used in the window,
per message. `--think MIN,MAX` changes the thinking time (the offered load; under 0.5 s a
customer may pass the rate limit, which counts as an error). `--profile` also samples the server
with py-spy during the window (if installed) and prints where its time goes; the sampling costs
the server a little.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import math
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import data
from bench.server import production_environment, uvicorn_start
from vipsupport.local_servers import process_stop

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

BENCH_DB = "vipsupport_bench_chat"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/9"
# redis-py 8 reads with a 5 s socket timeout by default, and channels-redis waits for messages with
# a blocking BZPOPMIN of 5 s: the read times out first and takes the consumer, hence its socket,
# down after 5 s without a message. Until the settings give the channel layer a longer timeout
# (or none), the server's REDIS_URL sets one; it is also the cache's, where it is harmless.
SERVER_REDIS_URL = BENCH_REDIS_URL
APPLICATION_NAME = "vipsupport-bench-chat"  # the server's connections in pg_stat_activity
ROOT = Path(__file__).resolve().parent.parent

# 40 VIP companies of 5 customers: 200 chats; company n's dedicated agent is agent n % 20.
PEOPLE = data.Staffing(
    companies=40, vip_every=1, customers_per_company=5, agents=20, seniors=0, managers=1
)
WARM_UP_S = 5.0
WINDOW_S = 30.0
# A person chatting: a message every 5-15 s, so 200 customers offer about 20 messages/s.
THINK_S = (5.0, 15.0)
ECHO_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 30.0
SERVER_START_TIMEOUT_S = 60.0
OPENING_AT_ONCE = 20  # sockets being opened at the same time
SEED = 20260516
QUANTILE = 0.95
TARGET_MS = 50.0
BODIES = (
    "The nightly export is still stuck at 80 %, can you check job **#{n}**?",
    "We restarted it as you said; same error in the log (request id `r-{n}`).",
    "Thanks! Could you also look at [the invoice page](https://example.com/invoices/{n})?",
    "Another user sees it too. Screenshots follow in a minute.",
)

log = data.log


class ChatError(Exception):
    """The server answered a message with an error frame, or the socket closed under it."""


@dataclass
class Chat:
    """One conversation: the customer's socket, the agent's socket, the messages in flight."""

    number: int
    conversation_id: int
    customer_cookie: str
    agent_cookie: str
    customer: ClientConnection | None = None
    agent: ClientConnection | None = None
    pending: dict[str, asyncio.Future[float]] = field(default_factory=dict)  # until the echo
    unacked: dict[str, float] = field(default_factory=dict)  # client_id: sent at


@dataclass
class Window:
    """The warm-up ends at `start`; messages sent in [start, end) are counted; customers think
    `think` seconds (a range) between messages."""

    start: float
    end: float
    think: tuple[float, float] = THINK_S
    stopping: bool = False

    def counts(self, sent: float) -> bool:
        return self.start <= sent < self.end


@dataclass
class Tally:
    round_trips: list[float] = field(default_factory=list)  # seconds; inf for a timeout
    acks: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    timeouts: int = 0
    warm_up: int = 0  # round trips before the window


@dataclass
class Usage:
    """CPU seconds used in the window."""

    server: float = 0.0
    postgres: float = 0.0
    postgres_backends: int = 0
    redis: float = 0.0
    generator: float = 0.0


# --- the world -------------------------------------------------------------------------------


def _build_chats(secret: str) -> list[Chat]:
    """The 200 conversations taken by their dedicated agents, and every user's session cookie."""
    from django.test import override_settings

    from accounts.models import User
    from chat.models import ChatMessage, Conversation

    people = data.seed_people_logged("bench_chat", PEOPLE)
    users = User.objects.select_related("company").in_bulk(people.requester_ids + people.agent_ids)
    step = time.perf_counter()
    # No socket is open yet: what the services broadcast here needs no trip to Redis.
    with override_settings(
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    ):
        taken = [
            _start_and_take(
                users[customer_id],
                users[people.agent_ids[number // PEOPLE.customers_per_company % PEOPLE.agents]],
            )
            for number, customer_id in enumerate(people.requester_ids)
        ]
    data.vacuum(
        [Conversation._meta.db_table, ChatMessage._meta.db_table, "accounts_user", "auth_group"]
    )
    log(
        f"bench_chat: {len(taken)} chats started and taken by {PEOPLE.agents} agents"
        f" in {time.perf_counter() - step:.1f} s"
    )
    cookies = _session_cookies(
        [customer for _, customer, _ in taken] + list(_agents(taken)), secret
    )
    data.vacuum(["django_session"])
    return [
        Chat(number, conversation_id, cookies[customer.pk], cookies[agent.pk])
        for number, (conversation_id, customer, agent) in enumerate(taken)
    ]


def _start_and_take(customer: Any, agent: Any) -> tuple[int, Any, Any]:
    """The customer's chat at the dedicated door, taken by the company's dedicated agent."""
    from django.utils import timezone

    from chat import services
    from chat.models import Door

    conversation = services.conversation_start(
        customer=customer,
        door=Door.DEDICATED,
        body=f"Hello, this is {customer.email}: our export is stuck.",
        client_id=uuid.uuid4(),
        at=timezone.now(),
    )
    if conversation.requested_agent_id != agent.pk:
        raise RuntimeError(f"chat {conversation.pk} asks for another agent than {agent}")
    services.conversation_take(conversation=conversation, agent=agent)
    return conversation.pk, customer, agent


def _agents(taken: Iterable[tuple[int, Any, Any]]) -> list[Any]:
    return list({agent.pk: agent for _, _, agent in taken}.values())


def _session_cookies(users: list[Any], secret: str) -> dict[int, str]:
    """A session per user in the database's session store, as the server (with `secret`) reads
    it: what a browser that logged in sends as its `Cookie` header."""
    from django.conf import settings
    from django.test import Client, override_settings

    name = settings.SESSION_COOKIE_NAME
    cookies: dict[int, str] = {}
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per login otherwise
    with override_settings(SECRET_KEY=secret):
        for user in users:
            client = Client()
            client.force_login(user)
            cookies[user.pk] = f"{name}={client.cookies[name].value}"
    return cookies


# --- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(port: int, secret: str, output: Path) -> subprocess.Popen[bytes]:
    """One uvicorn process; no static files are collected (no page is served), so STATIC_ROOT is
    an empty folder."""
    environment = production_environment(
        port=port,
        secret=secret,
        database_url=f"{data.PG_SERVER}/{BENCH_DB}",
        redis_url=SERVER_REDIS_URL,
        email_url="consolemail://",
        static_root=output.parent,
        application_name=APPLICATION_NAME,
    )
    return uvicorn_start(port=port, workers=1, environment=environment, output=output)


def _tail(output: Path) -> str:
    return output.read_text(errors="replace")[-4000:]


# What the server's log says when a message or a socket is lost on the way.
_LOG_PROBLEMS = (
    ("tracebacks", "Traceback (most recent call last)"),
    # channels-redis's core layer drops a group message for a process holding `capacity` (100)
    # undelivered ones, all its sockets together; it says so at INFO.
    ("group messages dropped over the channel layer's capacity", "channels over capacity"),
    ("broadcasts failed", "could not broadcast"),
)


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Full)\b")


def _check_server_log(output: Path) -> None:
    """Count the server log's reports of lost messages and crashed sockets; show the end of it."""
    text = output.read_text(errors="replace")
    counts = [(label, text.count(needle)) for label, needle in _LOG_PROBLEMS]
    if any(count for _, count in counts):
        found = ", ".join(f"{count} {label}" for label, count in counts if count)
        # The last line of each traceback: the exception, counted.
        raised = collections.Counter(
            line[:160] for line in text.splitlines() if _EXCEPTION_LINE.match(line)
        )
        lines = "".join(f"\n  {count} × {line}" for line, count in raised.most_common(8))
        log(f"bench_chat: the server logged {found}:{lines}\nIts log ends with:\n{_tail(output)}")


async def _wait_for_server(port: int, process: subprocess.Popen[bytes], output: Path) -> None:
    """Until the server answers a websocket handshake (a socket without a session is refused)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus
    from websockets.typing import Origin

    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(output)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer in time:\n{_tail(output)}")
        try:
            async with connect(
                f"ws://127.0.0.1:{port}/ws/chat/0/",
                origin=Origin(f"http://127.0.0.1:{port}"),
                open_timeout=5,
                proxy=None,
            ):
                raise RuntimeError("a socket without a session was accepted")
        except InvalidStatus:
            return
        except (OSError, TimeoutError):
            await asyncio.sleep(0.2)


# --- CPU accounting --------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process, all its threads; None when it is gone or unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


def _helper_pids() -> tuple[list[int], int | None]:
    """The PostgreSQL backends of the server's pool, and Redis's process id."""
    import psycopg
    import redis

    with psycopg.connect(f"{data.PG_SERVER}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
        ).fetchall()
    try:
        info: Any = redis.Redis.from_url(BENCH_REDIS_URL).info("server")
        redis_pid: int | None = int(info["process_id"])
    except Exception:  # Redis elsewhere: its CPU is just not shown
        redis_pid = None
    return [int(row[0]) for row in rows], redis_pid


class CpuMeter:
    """CPU seconds of the server, its PostgreSQL backends, Redis and this process in a window."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.before: dict[int, float] = {}
        self.generator_before = 0.0
        self.backends: list[int] = []
        self.redis_pid: int | None = None

    def _read(self) -> dict[int, float]:
        pids = [self.server_pid, *self.backends]
        if self.redis_pid is not None:
            pids.append(self.redis_pid)
        return {pid: seconds for pid in pids if (seconds := _cpu_seconds(pid)) is not None}

    def start(self) -> None:
        self.backends, self.redis_pid = _helper_pids()
        self.generator_before = time.process_time()
        self.before = self._read()

    def stop(self) -> Usage:
        after = self._read()
        used = {pid: after[pid] - self.before[pid] for pid in after if pid in self.before}
        if self.server_pid not in used:
            raise RuntimeError("the server's CPU time could not be read")
        return Usage(
            server=used[self.server_pid],
            postgres=sum(used.get(pid, 0.0) for pid in self.backends),
            postgres_backends=len(self.backends),
            redis=used.get(self.redis_pid, 0.0) if self.redis_pid is not None else 0.0,
            generator=time.process_time() - self.generator_before,
        )


# --- py-spy (--profile) ----------------------------------------------------------------------


def _start_profiler(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    executable = shutil.which("py-spy", path=path)
    if executable is None:
        log("bench_chat: py-spy is not installed (pip install py-spy): no profile")
        return None
    return subprocess.Popen(  # noqa: S603 - py-spy with our own arguments
        [
            executable,
            "record",
            *("--pid", str(pid), "--duration", str(math.ceil(seconds)), "--rate", "200"),
            *("--format", "raw", "--output", str(output), "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _profile_report(output: Path, *, top: int = 30) -> str:
    """py-spy's sampled stacks as the functions with the most own and inclusive samples."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in output.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(frame) for frame in stack.split(";")]
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples of the server's busy threads"]
    for title, counter in (("own", own), ("inclusive", inclusive)):
        lines.append(f"  by {title} samples:")
        lines += [
            f"    {count * 100 / total:5.1f} %  {frame}"
            for frame, count in counter.most_common(top)
        ]
    return "\n".join(lines)


def _frame_name(frame: str) -> str:
    """`function (path/to/module.py:123)` → `function (to/module.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})" if path else name


# --- the load --------------------------------------------------------------------------------


async def _open(url: str, cookie: str, origin: str, gate: asyncio.Semaphore) -> ClientConnection:
    """A socket as a logged-in page opens it, read up to the server's `ready` frame."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    async with gate:
        connection = await connect(
            url,
            origin=Origin(origin),
            additional_headers={"Cookie": cookie},
            open_timeout=CONNECT_TIMEOUT_S,
            ping_interval=None,  # the server pings; production browsers do not
            close_timeout=2,
            proxy=None,
        )
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            while json.loads(await connection.recv()).get("type") != "ready":
                pass
        return connection


async def _read_customer(chat: Chat, window: Window, tally: Tally) -> None:
    """The customer's socket: acks (timed) and error frames (which fail the message)."""
    assert chat.customer is not None
    try:
        async for raw in chat.customer:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "ack":
                sent = chat.unacked.pop(frame.get("client_id"), None)
                if sent is not None and window.counts(sent):
                    tally.acks.append(time.perf_counter() - sent)
            elif kind == "error":
                tally.errors[str(frame.get("code"))] += 1
                future = chat.pending.get(frame.get("client_id"))
                if future is not None and not future.done():
                    future.set_exception(ChatError(str(frame.get("code"))))
    finally:
        _fail_pending(chat, window, tally, "customer socket closed")


async def _read_agent(chat: Chat, window: Window, tally: Tally) -> None:
    """The agent's socket: each message resolves the customer's wait for it, by `client_id`."""
    assert chat.agent is not None
    try:
        async for raw in chat.agent:
            received = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") != "message":
                continue
            future = chat.pending.get(frame["message"].get("client_id"))
            if future is not None and not future.done():
                future.set_result(received)
    finally:
        _fail_pending(chat, window, tally, "agent socket closed")


def _fail_pending(chat: Chat, window: Window, tally: Tally, reason: str) -> None:
    if window.stopping:
        return
    tally.errors[reason] += 1
    for future in chat.pending.values():
        if not future.done():
            future.set_exception(ChatError(reason))


async def _converse(chat: Chat, window: Window, tally: Tally) -> None:
    """The customer's loop: send, wait for the echo on the agent's side, think, again."""
    assert chat.customer is not None
    rng = random.Random(SEED + chat.number)  # noqa: S311 - reproducible timing, not secrets
    loop = asyncio.get_running_loop()
    await asyncio.sleep(rng.uniform(0, window.think[1]))  # spread the first messages
    sequence = 0
    while time.perf_counter() < window.end:
        sequence += 1
        client_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body = rng.choice(BODIES).format(n=sequence)
        future: asyncio.Future[float] = loop.create_future()
        chat.pending[client_id] = future
        sent = time.perf_counter()
        chat.unacked[client_id] = sent
        await chat.customer.send(
            json.dumps({"type": "message", "body": body, "client_id": client_id})
        )
        try:
            elapsed = await asyncio.wait_for(future, ECHO_TIMEOUT_S) - sent
        except TimeoutError:
            tally.timeouts += 1
            elapsed = math.inf
        except ChatError:
            elapsed = math.inf
        finally:
            chat.pending.pop(client_id, None)
            chat.unacked.pop(client_id, None)
        if window.counts(sent):
            tally.round_trips.append(elapsed)
        elif sent < window.start:
            tally.warm_up += 1
        await asyncio.sleep(rng.uniform(*window.think))


async def _load(
    port: int,
    chats: list[Chat],
    server: subprocess.Popen[bytes],
    output: Path,
    *,
    think: tuple[float, float],
    profile: bool,
) -> tuple[Tally, Usage, str | None]:
    await _wait_for_server(port, server, output)
    origin = f"http://127.0.0.1:{port}"
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    step = time.perf_counter()

    async def open_both(chat: Chat) -> None:
        url = f"ws://127.0.0.1:{port}/ws/chat/{chat.conversation_id}/?after=0"
        chat.customer = await _open(url, chat.customer_cookie, origin, gate)
        chat.agent = await _open(url, chat.agent_cookie, origin, gate)

    await asyncio.gather(*(open_both(chat) for chat in chats))
    log(
        f"bench_chat: {2 * len(chats)} sockets open and ready in {time.perf_counter() - step:.1f} s"
    )

    log(
        f"bench_chat: each customer sends, waits for the echo and thinks"
        f" {think[0]:g}-{think[1]:g} s; {WARM_UP_S:.0f} s warm-up, {WINDOW_S:.0f} s window"
    )
    began = time.perf_counter()
    window = Window(start=began + WARM_UP_S, end=began + WARM_UP_S + WINDOW_S, think=think)
    tally = Tally()
    readers = [
        asyncio.create_task(reader(chat, window, tally))
        for chat in chats
        for reader in (_read_customer, _read_agent)
    ]
    customers = [asyncio.create_task(_converse(chat, window, tally)) for chat in chats]

    meter = CpuMeter(server.pid)
    await asyncio.sleep(window.start - time.perf_counter())
    load_before = os.getloadavg()[0]
    meter.start()
    profile_output = output.with_name("profile.txt")
    profiler = _start_profiler(server.pid, WINDOW_S, profile_output) if profile else None
    await asyncio.sleep(window.end - time.perf_counter())
    usage = meter.stop()
    log(
        f"bench_chat: machine load average (1 min) {load_before:.1f} before the window,"
        f" {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)"
    )

    await asyncio.gather(*customers)
    window.stopping = True

    async def close(connection: ClientConnection) -> None:
        async with gate:  # as many at once as were opened at once
            await connection.close()

    await asyncio.gather(
        *(
            close(connection)
            for chat in chats
            for connection in (chat.customer, chat.agent)
            if connection is not None
        )
    )
    await asyncio.gather(*readers, return_exceptions=True)

    report = None
    if profiler is not None:
        profiler.wait(timeout=60)
        report = _profile_report(profile_output) if profile_output.exists() else "no profile"
    return tally, usage, report


# --- figures ---------------------------------------------------------------------------------


def _quantile_ms(samples: list[float], quantile: float) -> float:
    """Nearest rank, in milliseconds."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)] * 1000


def _summarise(tally: Tally, usage: Usage) -> float:
    samples = tally.round_trips
    answered = [sample for sample in samples if math.isfinite(sample)]
    if not answered:
        raise SystemExit(
            f"bench_chat: no message made the round trip (errors {dict(tally.errors)},"
            f" timeouts {tally.timeouts})"
        )
    messages = len(answered)
    log(
        f"bench_chat: {WINDOW_S:.0f} s window after {WARM_UP_S:.0f} s warm-up"
        f" ({tally.warm_up} round trips): {len(samples)} messages sent, {messages} echoed to the"
        f" agent ({messages / WINDOW_S:.0f} messages/s); timeouts {tally.timeouts},"
        f" errors {dict(tally.errors) or 0}"
    )
    log(
        f"  send → agent: p50 {statistics.median(answered) * 1000:.1f} ms,"
        f" p95 {_quantile_ms(samples, QUANTILE):.1f} ms, p99 {_quantile_ms(samples, 0.99):.1f} ms,"
        f" max {max(samples) * 1000:.1f} ms"
    )
    if tally.acks:
        log(
            f"  send → ack: p50 {statistics.median(tally.acks) * 1000:.1f} ms,"
            f" p95 {_quantile_ms(tally.acks, QUANTILE):.1f} ms"
        )
    per_message = 1000 / len(samples)  # every message sent in the window was handled
    log(
        f"  CPU in the window: server {usage.server:.1f} s"
        f" ({usage.server / WINDOW_S:.0%} of a core, {usage.server * per_message:.2f} ms per"
        f" message sent); PostgreSQL ({usage.postgres_backends} backends)"
        f" {usage.postgres * per_message:.2f} ms, Redis {usage.redis * per_message:.2f} ms,"
        f" load generator {usage.generator * per_message:.2f} ms per message"
    )
    return _quantile_ms(samples, QUANTILE)


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()


def _drop_database() -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with psycopg.connect(f"{data.PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB))
        )


def _think_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        think = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN,MAX in seconds") from None
    if not 0 <= think[0] <= think[1]:
        raise argparse.ArgumentTypeError(f"{text!r} is not 0 <= MIN <= MAX")
    return think


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    """`bench.data.bench_arguments`'s `--profile`, and the customers' thinking time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also sample the server with py-spy in the window (stderr)",
    )
    parser.add_argument(
        "--think",
        type=_think_range,
        default=THINK_S,
        metavar="MIN,MAX",
        help=(
            "seconds a customer waits between the echo and its next message, drawn uniformly"
            f" (default {THINK_S[0]:g},{THINK_S[1]:g}: a person chatting; 0.5,1.5 finds where one"
            " server process saturates)"
        ),
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    began = time.perf_counter()
    log(f"bench_chat: re-creating database {BENCH_DB}")
    _flush_redis()
    data.setup_database(BENCH_DB, redis_url=BENCH_REDIS_URL)
    secret = secrets.token_urlsafe(50)
    try:
        chats = _build_chats(secret)
        from django.db import connections

        connections.close_all()  # the server is the only client from here on
        with tempfile.TemporaryDirectory(prefix="bench_chat_") as folder:
            output = Path(folder) / "server.log"
            port = _free_port()
            server = _start_server(port, secret, output)
            try:
                tally, usage, report = asyncio.run(
                    _load(port, chats, server, output, think=args.think, profile=args.profile)
                )
            except BaseException:
                log(f"bench_chat: the server's log ends with:\n{_tail(output)}")
                raise
            finally:
                process_stop(server)
            _check_server_log(output)
        if report is not None:
            log(f"profile: py-spy of the server in the window\n{report}")
        p95 = _summarise(tally, usage)
    finally:
        with contextlib.suppress(Exception):
            _drop_database()
        with contextlib.suppress(Exception):
            _flush_redis()
    log(f"chat round trip: target p95 ≤ {TARGET_MS:.0f} ms")
    print(f"bench: chat_roundtrip_p95_ms {p95:.1f} ms")
    log(f"bench_chat: total {time.perf_counter() - began:.0f} s")
    if not math.isfinite(p95):
        raise SystemExit(
            f"bench_chat: more than {1 - QUANTILE:.0%} of the messages were not echoed within"
            f" {ECHO_TIMEOUT_S:.0f} s"
        )


if __name__ == "__main__":
    main()
