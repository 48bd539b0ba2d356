"""LocalAws: a moto server on 127.0.0.1 with the ECS emulator ticking inside it.

Why not moto's ThreadedMotoServer: it builds its WSGI app inside its private
thread entry, with no way to wrap it. The emulator needs a middleware around that
app (see `middleware.py`), so this starts the same two moto pieces
(`DomainDispatcherApplication(create_backend_app)`) under werkzeug's
`make_server` itself: port 0 gives a free port with no race, and stopping joins
every thread it started and closes the socket.

moto's backends are process-wide: a `mock_aws` in the same process sees (and a
reset clears) the same state, and two emulators over them would both start every
task. So one LocalAws runs per process at a time: `start()` refuses a second, and
`LocalAws.running()` hands out the one that runs (a test suite shares it).
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from neuraltrade_world import timescale
from neuraltrade_world.alarm_history import install_alarm_history
from neuraltrade_world.alarm_state import install_initial_state, uninstall_initial_state
from neuraltrade_world.calls import CallLog
from neuraltrade_world.emulator import EcsEmulator
from neuraltrade_world.live import Live
from neuraltrade_world.middleware import EmulatorMiddleware

if TYPE_CHECKING:
    from neuraltrade_world.provision import World

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
_log = logging.getLogger(__name__)

# Variables that would send a child process somewhere else than the local world.
_FOREIGN_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


_running_lock = threading.Lock()
_running: list[LocalAws] = []  # at most one


class LocalAws:
    """The local AWS world: `with LocalAws() as aws: aws.client("ecs") ...`.

    `emulator_options` go to EcsEmulator (start_delay, stop_delay, fail_after,
    tasks_per_tick, require_attached_target_groups). `metric_period`: seconds per ALB
    metric datapoint (60 like AWS; 1 in tests); `metric_lag`: seconds from a period's
    end to its publication (0; AWS: about 60); `health_scale`: factor on every ALB
    health-check interval and deregistration delay (0.01: a 15 s interval is 0.15 s;
    1 with a `time_scale`). `time_scale`: the factor world time runs faster than the
    wall (`timescale.py`; None or 1: real time); every duration above is then in world
    seconds, and `env()` hands the clock to the processes it starts.
    `aws.live` is the live-traffic layer: `aws.live.balancer.url`, `aws.live.behave(...)`,
    `aws.live.traffic(rate)`, `aws.live.ledger`."""

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        host: str = "127.0.0.1",
        port: int = 0,
        tick_interval: float = 0.05,
        emulator: EcsEmulator | None = None,
        metric_period: float = 60.0,
        metric_lag: float = 0.0,
        health_scale: float = 0.01,
        time_scale: float | None = None,
        seed: int | None = None,
        **emulator_options: Any,
    ) -> None:
        self.region = region
        self.host = host
        self.tick_interval = tick_interval
        self.time_scale = timescale.TimeScale.starting_now(time_scale or 1.0)
        self.emulator = emulator or EcsEmulator(**emulator_options)
        self.call_log = CallLog()
        self.live = Live(
            self.emulator,
            host=host,
            metric_period=metric_period,
            metric_lag=metric_lag,
            health_scale=health_scale,
            seed=seed,
        )
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._session: Any = boto3.session.Session()  # clients by any service name
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def running(cls) -> LocalAws | None:
        """The LocalAws started in this process and not yet stopped, if any."""
        with _running_lock:
            return _running[0] if _running else None

    @classmethod
    @contextmanager
    def shared(cls, **timing: Any) -> Iterator[LocalAws]:
        """The running LocalAws with its emulator's timing set to `timing` for the
        duration (restored after), or, if none runs, a new one stopped after.

        What test modules use, so a session-wide world (e2e) and theirs never fight."""
        running = cls.running()
        aws = running or cls(**timing).start()
        saved = aws.emulator.timing
        if running is not None:
            aws.emulator.configure(**timing)
        try:
            yield aws
        finally:
            if running is None:
                aws.stop()
            else:
                aws.emulator.configure(**vars(saved))

    def start(self) -> LocalAws:
        with _running_lock:
            if _running:
                other = _running[0]
                where = other.endpoint_url if other._server is not None else "starting"
                raise RuntimeError(
                    f"a LocalAws already runs in this process ({where}); moto's state is"
                    " process-wide: share it (LocalAws.shared() or LocalAws.running())"
                )
            _running.append(self)
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> LocalAws:
        timescale.use(self.time_scale)
        install_alarm_history()
        install_initial_state()
        app = EmulatorMiddleware(
            DomainDispatcherApplication(create_backend_app),
            self.emulator,
            calls=self.call_log,
            on_reset=self.live.reset,
        )
        self._server = make_server(
            self.host, self._port, app, threaded=True, request_handler=_QuietHandler
        )
        self._stopping.clear()
        server = self._server
        self._threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="localaws-http"
            ),
            threading.Thread(target=self._tick_forever, name="localaws-ecs-emulator"),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        self.live.start()
        return self

    def stop(self) -> None:
        self.live.stop()
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server, self._threads = None, []
        self._clients.clear()  # they point at a port that is closed now
        with _running_lock:
            if self in _running:
                _running.remove(self)
                uninstall_initial_state()  # moto's own alarms again for in-process tests
                timescale.use(timescale.TimeScale())

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _tick_forever(self) -> None:
        while not self._stopping.wait(self.tick_interval):
            try:
                self.emulator.tick()
            except Exception:  # keep the world alive; the next tick may do better
                _log.exception("ECS emulator tick failed")

    # ------------------------------------------------------------ use

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalAws is not started")
        return int(self._server.server_port)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a process (the real CLI) that must talk to this world.

        With `base` (say `os.environ`), a copy of it without the variables that would
        point elsewhere (profiles, session tokens, per-service endpoints), plus ours."""
        env = {
            k: v
            for k, v in (base or {}).items()
            if k not in _FOREIGN_AWS_VARIABLES
            and not k.startswith("AWS_ENDPOINT_URL_")
            and k != timescale.ENV
        }
        if self.time_scale.scaled:
            env[timescale.ENV] = self.time_scale.env_value()
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        return env

    def client(self, service_name: str, region_name: str | None = None) -> Any:
        """A boto3 client for this world (no retries: a local error is a real one).

        Cached per service and region: making a client loads its model, which is slow."""
        key = (service_name, region_name or self.region)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service_name,
                    region_name=key[1],
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id=ACCESS_KEY,
                    aws_secret_access_key=SECRET_KEY,
                    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
                )
            return self._clients[key]

    def calls(self) -> list[str]:
        """The AWS operations that reached this world, in order ("ecs:UpdateService")."""
        return self.call_log.calls()

    def reset(self) -> None:
        """Empty moto (every service) and the emulator, through moto's reset API."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def provision(self, **options: Any) -> World:
        """NeuralTrade production in this world (see `provision.provision_production`)."""
        from neuraltrade_world.provision import provision_production

        options.setdefault("alarm_period", max(1, round(self.live.metrics.period)))
        return provision_production(self.client, region=self.region, **options)
