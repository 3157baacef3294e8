"""Both session stores, SQLite and PostgreSQL, held to the same behaviour.

The PostgreSQL cases need a server: set PROTOCOLBOT_TEST_POSTGRES_URL to
postgresql://user:password@127.0.0.1:port/dbname (the user must be able to create schemas).
Without it they are skipped; `.ci/run` starts a real server, so in CI they run. Each test
gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import backends
import pytest

from bot.dialogue import (
    Conversation,
    Engine,
    Inbound,
    PostgresStore,
    Reply,
    SessionStore,
    SqliteStore,
    StoreError,
    StoreUnavailable,
    open_store,
)
from bot.dialogue.session import Mark, Session

WHO = Conversation("test", "local", "u1", "t1")
ALREADY = "already been answered"


# --- the two backends ------------------------------------------------------------------------
class Backend(backends.Backend):
    """Opens stores on one database (as separate bot instances would) and reads it raw."""

    def rows(self) -> list[tuple[str, str, int]]:
        """(key, data, version) of every stored session, read past the store."""
        raise NotImplementedError

    def remembered(self) -> list[tuple[str, str, str]]:
        """(namespace, key, value) of every remembered key, read past the store."""
        raise NotImplementedError


class SqliteBackend(backends.SqliteBackend, Backend):
    def rows(self) -> list[tuple[str, str, int]]:
        with sqlite3.connect(self.path) as db:
            return db.execute("SELECT key, data, version FROM sessions ORDER BY key").fetchall()

    def remembered(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.path) as db:
            query = "SELECT namespace, key, value FROM remembered ORDER BY value"
            return db.execute(query).fetchall()

    def hold_lock(self) -> Callable[[], None]:
        """Another connection takes the database's write lock; returns its release."""
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")

        def release() -> None:
            other.execute("ROLLBACK")
            other.close()

        return release

    def cut_access(self, store: SqliteStore) -> Callable[[], None]:
        """From now on every write of this store is refused by SQLite itself."""

        def deny_writes(action: int, *_: Any) -> int:
            writes = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
            return sqlite3.SQLITE_DENY if action in writes else sqlite3.SQLITE_OK

        store._db.set_authorizer(deny_writes)
        return lambda: store._db.set_authorizer(None)


class PostgresBackend(backends.PostgresBackend, Backend):
    def rows(self) -> list[tuple[str, str, int]]:
        cursor = self.admin.execute(
            f"SELECT key, data, version FROM {self.schema}.sessions ORDER BY key"
        )
        return [(str(k), str(d), int(v)) for k, d, v in cursor.fetchall()]

    def remembered(self) -> list[tuple[str, str, str]]:
        cursor = self.admin.execute(
            f"SELECT namespace, key, value FROM {self.schema}.remembered ORDER BY value"
        )
        return [(str(n), str(k), str(v)) for n, k, v in cursor.fetchall()]

    def hold_lock(self) -> Callable[[], None]:
        """Another connection locks the sessions table; returns its release."""
        import psycopg

        other = psycopg.connect(self.url)
        other.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")

        def release() -> None:
            other.rollback()
            other.close()

        return release

    def cut_access(self, store: PostgresStore) -> Callable[[], None]:
        """The server drops every connection the stores have (as on a failover)."""
        self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (self.schema,),
        )
        return lambda: None  # the pool reconnects by itself


backend = backends.backend_fixture(SqliteBackend, PostgresBackend)


@pytest.fixture(scope="module")
def parts() -> Engine:
    """Knowledge, flows and router loaded once; each test gives them its own store."""
    from bot.dialogue import open_engine

    return open_engine(":memory:")


def engine_on(parts: Engine, store: SessionStore) -> Engine:
    return Engine(
        index=parts.index,
        flows=parts.flows,
        router=parts.router,
        renderer=parts.renderer,
        store=store,
    )


def say(engine: Engine, text: str = "", action: str | None = None) -> list[Reply]:
    return engine.handle(Inbound(WHO, text=text, action=action))


def press(engine: Engine, replies: list[Reply], label: str) -> list[Reply]:
    option = next(o for r in replies for o in r.options if o.label == label)
    return say(engine, action=option.value)


def to_referrer_name(engine: Engine) -> list[Reply]:
    """Advocacy flow: no risk, in care, understands, explained today, consents; now asked the
    referrer's name."""
    replies = say(engine, "a child needs advocacy")
    for label in ("No", "In care (looked after by a council)", "Yes", "Yes, I have explained it"):
        replies = press(engine, replies, label)
    replies = say(engine, "today")
    replies = press(engine, replies, "Yes")
    assert replies[-1].step == "referrer_name"
    return replies


def session_of(store: SessionStore) -> Session:
    session, expired = store.load(WHO.key)
    assert session is not None and not expired
    return session


# --- round trip, expiry, deduplication, restart -------------------------------------------------
def test_a_session_comes_back_as_it_was_saved(backend: Backend, clock: Any) -> None:
    store = backend.open()
    session = Session(key="slack|T1|U1|D1", flow="lgo_complaint", step="council_name")
    session.mode = "asking"
    session.answers = {"lgo_complaint": {"child_at_risk": "no", "name": "Zoë <b>{{x}}</b> ' ;--"}}
    session.history = [Mark("lgo_complaint", "child_at_risk", [("a", "b")])]
    session.stack = [("child_advocacy", "ofsted_role")]
    session.seen_says = ["lgo_complaint/who_does_what"]
    store.save(session)
    store.save(session)
    loaded, expired = store.load(session.key)
    assert not expired and loaded is not None
    assert loaded.to_dict() == session.to_dict()
    assert loaded.version == 2 and loaded.updated_at == clock()
    assert store.load("slack|T1|U1|other") == (None, False)
    store.delete(session.key)
    assert store.load(session.key) == (None, False)
    assert backend.rows() == []


def test_idle_sessions_are_deleted_from_the_database(backend: Backend, clock: Any) -> None:
    store = backend.open(idle_seconds=60)
    for key in ("a", "b", "c"):
        store.save(Session(key=key, flow="lgo_complaint", answers={"x": {"y": f"secret-{key}"}}))
    clock.advance(61)
    assert store.load("a") == (None, True)  # reading an idle session deletes it
    assert [row[0] for row in backend.rows()] == ["b", "c"]
    store.save(Session(key="d"))
    assert store.expire() == 2  # the sweep deletes the rest of the idle ones
    assert [row[0] for row in backend.rows()] == ["d"]
    assert not any("secret" in row[1] for row in backend.rows())


def test_a_safety_note_outlives_its_session_for_a_while(backend: Backend, clock: Any) -> None:
    from bot.dialogue.store import SAFETY_NOTE_SECONDS

    store, other = backend.open(idle_seconds=60), backend.open(idle_seconds=60)
    store.save(Session(key="a", flow="safeguarding_concern"))
    store.keep_safety_note("a", '{"councils": []}')
    store.keep_safety_note("a", '{"councils": ["Kent County Council"]}')  # kept up to date
    clock.advance(61)
    assert store.expire() == 1  # the session goes with the sweep; the note stays
    assert other.safety_note("a") == '{"councils": ["Kent County Council"]}'
    assert other.safety_note("b") is None
    other.drop_safety_note("a")
    assert store.safety_note("a") is None
    store.keep_safety_note("c", "{}")
    clock.advance(SAFETY_NOTE_SECONDS + 1)
    assert store.safety_note("c") is None  # past its time it means nothing
    store.expire()
    clock.now -= SAFETY_NOTE_SECONDS + 1
    assert store.safety_note("c") is None  # and the sweep deleted it


def test_a_delivery_is_new_only_once_across_instances(backend: Backend, clock: Any) -> None:
    one, two = backend.open(), backend.open()
    assert one.first_time("slack:Ev1") is True
    assert one.first_time("slack:Ev1") is False
    assert two.first_time("slack:Ev1") is False  # a retry that reached another instance
    assert two.first_time("telegram:42") is True
    clock.advance(86401)
    one.expire()
    assert two.first_time("slack:Ev1") is True  # forgotten after a day


def test_a_remembered_value_has_one_short_key_on_every_instance(
    backend: Backend, clock: Any
) -> None:
    one, two = backend.open(), backend.open()
    key = one.remember("telegram-button", "1001 ans:q:yes", 3600)
    assert len(key) == 12 and key.replace("-", "").replace("_", "").isalnum()
    assert one.remember("telegram-button", "1001 ans:q:yes", 3600) == key
    assert two.remember("telegram-button", "1001 ans:q:yes", 3600) == key  # another instance
    assert two.recall("telegram-button", key) == "1001 ans:q:yes"
    other = two.remember("telegram-button", "1001 ans:q:no", 3600)
    assert other != key and one.recall("telegram-button", other) == "1001 ans:q:no"
    assert one.recall("another-namespace", key) is None  # namespaces are apart
    assert one.remember("another-namespace", "1001 ans:q:yes", 3600) != key
    assert one.recall("telegram-button", "no-such-key0") is None
    assert one.recall("telegram-button", "") is None
    assert [row[2] for row in backend.remembered()] == [
        "1001 ans:q:no",
        "1001 ans:q:yes",
        "1001 ans:q:yes",
    ]


def test_remembered_keys_expire_and_are_swept(backend: Backend, clock: Any) -> None:
    one, two = backend.open(), backend.open()
    key = one.remember("ns", "kept", 100)
    gone = one.remember("ns", "forgotten", 100)
    clock.advance(60)
    assert two.remember("ns", "kept", 100) == key  # remembering again keeps it 100 s more
    clock.advance(60)
    assert two.recall("ns", key) == "kept"
    assert two.recall("ns", gone) is None  # past its time, even before the sweep
    assert one.expire() == 0  # sessions only are counted
    assert [row[2] for row in backend.remembered()] == ["kept"]
    clock.advance(101)
    fresh = one.remember("ns", "kept", 100)  # expired: a new key, the old one means nothing
    assert fresh != key and two.recall("ns", key) is None and two.recall("ns", fresh) == "kept"
    clock.advance(101)
    one.expire()
    assert backend.remembered() == []


def test_many_instances_remembering_one_value_at_once_agree_on_its_key(
    backend: Backend,
) -> None:
    stores = [backend.open() for _ in range(4)]
    keys: list[str] = [""] * 16
    start = threading.Barrier(len(keys))

    def run(i: int) -> None:
        start.wait()
        keys[i] = stores[i % len(stores)].remember("ns", "chat action", 60)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(set(keys)) == 1 and keys[0]
    assert len(backend.remembered()) == 1


@pytest.mark.parametrize(
    ("namespace", "value", "ttl"),
    [("", "v", 60), ("ns", "x" * 1025, 60), ("ns", "a\x00b", 60), ("ns", "v", 0)],
    ids=["no namespace", "too long", "NUL", "no time"],
)
def test_what_cannot_be_remembered_is_refused(
    backend: Backend, namespace: str, value: str, ttl: float
) -> None:
    store = backend.open()
    with pytest.raises(ValueError, match="remember"):
        store.remember(namespace, value, ttl)
    assert backend.remembered() == []
    assert store.recall("ns", "a\x00b") is None


def test_a_new_store_object_carries_on_where_the_last_one_stopped(
    backend: Backend, parts: Engine
) -> None:
    store = backend.open()
    engine = engine_on(parts, store)
    to_referrer_name(engine)
    say(engine, "Pat Example, inspector")
    store.close()  # the process ends
    engine = engine_on(parts, backend.open())
    replies = say(engine, "resume")
    assert replies[-1].step == "referrer_contact"
    session = session_of(engine.store)
    assert session.answers["child_advocacy"]["referrer_name"] == "Pat Example, inspector"


def test_the_database_setting_opens_the_same_database(backend: Backend) -> None:
    """PROTOCOLBOT_DATABASE as a path or a postgresql:// URL reaches the same sessions."""
    backend.open().save(Session(key="k", flow="lgo_complaint"))
    setting = backend.url if isinstance(backend, PostgresBackend) else str(backend.path)
    store = open_store(setting)
    backend.opened.append(store)
    kind = PostgresStore if isinstance(backend, PostgresBackend) else SqliteStore
    assert isinstance(store, kind)
    session, _ = store.load("k")
    assert session is not None and session.flow == "lgo_complaint"


def test_the_postgresql_driver_is_imported_only_for_a_postgresql_store() -> None:
    script = "import sys, bot.dialogue, bot.cli\nassert 'psycopg' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], check=True)


def test_database_urls_choose_the_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/a.sqlite3")
    assert isinstance(store, SqliteStore) and store.path == f"{tmp_path}/a.sqlite3"
    store.close()
    store = open_store(tmp_path / "b.sqlite3")
    assert isinstance(store, SqliteStore)
    store.close()
    with pytest.raises(StoreError, match="unsupported database URL scheme 'mysql'"):
        open_store("mysql://u:p@localhost/db")


def test_a_sqlite_url_in_another_case_opens_its_file(tmp_path: Path) -> None:
    store = open_store(f"SQLite:///{tmp_path}/c.sqlite3")
    assert isinstance(store, SqliteStore) and store.path == f"{tmp_path}/c.sqlite3"
    store.close()
    assert (tmp_path / "c.sqlite3").exists()


def test_a_sqlite_url_with_two_slashes_is_refused_not_made_a_strange_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="three slashes"):
        open_store("sqlite://sessions.sqlite3")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:9") as raised:
        PostgresStore("postgresql://bot:hunter2@127.0.0.1:9/sessions", timeout=1)
    assert "hunter2" not in str(raised.value)


def test_without_the_driver_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"pip install 'protocol-bot\[postgres\]'"):
        open_store("postgresql://bot@127.0.0.1/sessions")


# --- concurrent turns ------------------------------------------------------------------------
def slow_loads(store: Any, monkeypatch: pytest.MonkeyPatch, seconds: float = 0.2) -> None:
    """Each turn dawdles after reading its session: without the turn lock, a second turn
    would read the same starting point in that time."""
    real = store.load

    def load(key: str) -> tuple[Session | None, bool]:
        found = real(key)
        time.sleep(seconds)
        return found

    monkeypatch.setattr(store, "load", load)


def at_once(*jobs: Callable[[], list[Reply]]) -> list[list[Reply]]:
    results: list[list[Reply]] = [[] for _ in jobs]
    start = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        start.wait()
        results[i] = jobs[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("instances", [1, 2], ids=["one-instance", "two-instances"])
def test_two_presses_of_the_same_button_advance_the_flow_once(
    backend: Backend, parts: Engine, monkeypatch: pytest.MonkeyPatch, instances: int
) -> None:
    engines = [engine_on(parts, backend.open()) for _ in range(instances)]
    first, second = engines[0], engines[-1]
    replies = say(first, "a child needs advocacy")
    button = next(o.value for r in replies for o in r.options if o.label == "No")
    for engine in engines:
        slow_loads(engine.store, monkeypatch)
    results = at_once(
        lambda: first.handle(Inbound(WHO, action=button)),
        lambda: second.handle(Inbound(WHO, action=button)),
    )
    advanced = [r for r in results if r[-1].step == "child_situation" and not _noticed(r)]
    refused = [r for r in results if _noticed(r)]
    assert len(advanced) == 1 and len(refused) == 1, [[x.text for x in r] for r in results]
    session = session_of(first.store)
    assert session.step == "child_situation" and session.mode == "asking"
    assert session.answers["child_advocacy"] == {"risk_of_harm": "no"}
    assert [m.step for m in session.history] == ["risk_of_harm"]
    assert session.seen_says.count("child_advocacy/ofsted_role") == 1


def _noticed(replies: list[Reply]) -> bool:
    return any(ALREADY in r.text for r in replies)


@pytest.mark.parametrize("instances", [1, 2], ids=["one-instance", "two-instances"])
def test_two_messages_at_once_are_both_kept_in_turn(
    backend: Backend, parts: Engine, monkeypatch: pytest.MonkeyPatch, instances: int
) -> None:
    """Two typed answers at the same moment: each answers its own question, none is lost."""
    engines = [engine_on(parts, backend.open()) for _ in range(instances)]
    to_referrer_name(engines[0])
    for engine in engines:
        slow_loads(engine.store, monkeypatch)
    at_once(
        lambda: say(engines[0], "Alex Alpha, inspector"),
        lambda: say(engines[-1], "Brook Bravo, inspector"),
    )
    session = session_of(engines[0].store)
    answers = session.answers["child_advocacy"]
    assert session.step == "child_name"
    assert {answers["referrer_name"], answers["referrer_contact"]} == {
        "Alex Alpha, inspector",
        "Brook Bravo, inspector",
    }
    assert [m.step for m in session.history][-2:] == ["referrer_name", "referrer_contact"]


# --- locked or unavailable: "try again", nothing half-written -------------------------------------
def test_a_locked_database_means_try_again_and_no_change(backend: Backend, parts: Engine) -> None:
    engine = engine_on(parts, backend.open(timeout=0.3))
    to_referrer_name(engine)
    before = backend.rows()
    release = backend.hold_lock()
    try:
        started = time.monotonic()
        replies = say(engine, "Pat Example, inspector")
        assert time.monotonic() - started < 5
    finally:
        release()
    assert [r.kind for r in replies] == ["error"]
    assert "try again" in replies[0].text and "nothing has changed" in replies[0].text
    assert backend.rows() == before
    replies = say(engine, "Pat Example, inspector")  # the lock is gone: the same answer works
    assert replies[-1].step == "referrer_contact"


def test_access_lost_mid_turn_keeps_nothing_of_that_turn(
    backend: Backend, parts: Engine, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn's first write (deleting an idle session) and its save go together or not
    at all: here the save fails, so the idle session is still there afterwards."""
    store = backend.open(idle_seconds=600)
    engine = engine_on(parts, store)
    to_referrer_name(engine)
    before = backend.rows()
    clock.advance(601)
    real_load = store.load
    restore: list[Callable[[], None]] = []

    def load_then_lose_access(key: str) -> tuple[Session | None, bool]:
        found = real_load(key)  # deletes the idle session, inside the turn
        restore.append(backend.cut_access(store))  # type: ignore[attr-defined]
        return found

    monkeypatch.setattr(store, "load", load_then_lose_access)
    replies = say(engine, "hello")
    # lost access (denied writes, dropped connections): an error, and nothing of the turn kept
    assert [r.kind for r in replies] == ["error"] and "nothing has changed" in replies[0].text
    assert backend.rows() == before  # neither the delete nor the new session was kept
    monkeypatch.setattr(store, "load", real_load)
    restore[0]()
    replies = say(engine, "hello")  # access is back: the idle session goes, as it should
    assert "deleted" in replies[0].text
    assert backend.rows() == []


def test_a_committed_turn_reaches_the_disk_before_its_reply(tmp_path: Path) -> None:
    """synchronous=FULL in WAL mode: a power cut loses no turn the user was shown."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
