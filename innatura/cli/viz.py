"""``innatura viz``: serve the Mesa browser view of a scenario.

The page itself lives in ``viz/app.py``. Layering forbids ``abm`` from importing ``viz``, and
solara wants a file to serve anyway, so this command locates ``viz/app.py`` on disk with
:func:`importlib.util.find_spec` (which finds a top-level package without running it; this
works for editable and for regular installs alike) and runs ``python -m solara run`` on it as
a child process, with solara's asset cache pointed at the folder that ``python -m innatura.viz.assets``
fills (see :mod:`viz.assets`), so the page works without reaching a CDN.

The server lives exactly as long as the command: Ctrl-C, ``SIGTERM`` or ``SIGHUP`` to the command
stop the server and wait for it (so the port is free when the command has exited), and on
Linux the server is also asked to stop when the command dies without a chance to clean up
(``SIGKILL``), through the parent-death signal.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from innatura.planner.errors import InvalidInputError

__all__ = [
    "ASSET_DIR_ENV",
    "SCENARIO_ENV",
    "app_path",
    "configure",
    "default_asset_dir",
    "run",
    "serve",
    "server_command",
    "server_env",
]

logger = logging.getLogger(__name__)

#: solara's own setting: the folder its CDN proxy reads before going to the network.
ASSET_DIR_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"
#: How the command tells the page (``viz/app.py``) which scenario to build first.
SCENARIO_ENV = "INNATURA_VIZ_SCENARIO"


def default_asset_dir() -> Path:
    """``$XDG_CACHE_HOME/innatura/solara-cdn`` (``~/.cache/innatura/solara-cdn``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "innatura" / "solara-cdn"


def asset_dir() -> Path:
    """The asset cache in use: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` or :func:`default_asset_dir`."""
    return Path(os.environ.get(ASSET_DIR_ENV) or default_asset_dir())


def app_path() -> Path:
    """Path of ``viz/app.py`` in the installed (or editable) package, found without importing it.

    Raises:
        InvalidInputError: when the ``viz`` package or its ``app.py`` is not installed.
    """
    spec = importlib.util.find_spec("innatura.viz")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError("the 'viz' package is not installed; install innatura with the [viz] extra")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "app.py"
        if candidate.is_file():
            return candidate
    raise InvalidInputError(f"viz/app.py not found in {list(spec.submodule_search_locations)}")


def server_command(host: str, port: int, app: Path | None = None) -> list[str]:
    """The ``solara run`` command line that serves the page (production mode, no browser)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app or app_path()),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def server_env(cache_dir: Path, scenario: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the server: asset cache, no telemetry, the scenario to show first."""
    env = dict(os.environ if base is None else base)
    env[ASSET_DIR_ENV] = str(cache_dir)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if scenario:
        env[SCENARIO_ENV] = scenario
    else:
        env.pop(SCENARIO_ENV, None)
    return env


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``viz`` arguments."""
    from innatura.cli.args import whole

    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario shown first: a name or a .toml file (default: the page's default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=whole(0, 65535), default=8765, help="port (default 8765)")
    parser.add_argument(
        "--fetch-assets",
        action="store_true",
        help="first fill the front-end asset cache from the npm registry (needs npm; once is enough)",
    )
    parser.add_argument(
        "--assets-dir",
        type=Path,
        default=None,
        help=f"front-end asset cache (default ${ASSET_DIR_ENV} or {default_asset_dir()})",
    )


def _scenario_arg(name: str | None) -> str | None:
    """The scenario as the page will load it: a name, or a file's absolute path; checked now, so
    that a bad file is reported here (exit 2) and not as a message inside the page."""
    if name is None:
        return None
    from innatura import scenarios

    spec = scenarios.load(name)  # raises ScenarioError naming the file, field and value
    del spec
    return name if name in scenarios.names() else str(Path(name).resolve())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send the server SIGTERM when the command that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server and wait for it (kill it after 10 s)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits or the command is stopped; returns the exit status.

    Ctrl-C returns 0; ``SIGTERM`` and ``SIGHUP`` return ``128 + signal``. Either way the server
    has exited (and freed its port) before this returns.
    """
    linux = sys.platform.startswith("linux")
    proc = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent if linux else None)

    def on_signal(signum: int, frame: object) -> None:
        raise _StopRequestedError(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    except _StopRequestedError as stop:
        return 128 + stop.signum
    finally:
        _stop(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _StopRequestedError(Exception):
    """The command received a signal that asks it to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run(args: argparse.Namespace) -> int:
    """Serve the page until interrupted; returns the server's exit status."""
    scenario = _scenario_arg(args.scenario)
    cache_dir = args.assets_dir or asset_dir()
    app = app_path()
    if args.fetch_assets:
        fetch = [sys.executable, "-m", "innatura.viz.assets", "--dir", str(cache_dir)]
        status = subprocess.call(fetch)
        if status != 0:
            print(f"innatura viz: fetching the assets failed (exit {status})", file=sys.stderr)
            return status
    if not cache_dir.is_dir() or not any(cache_dir.iterdir()):
        print(
            f"innatura viz: warning: the asset cache {cache_dir} is empty; the page will try a public "
            "CDN. Offline, run `innatura viz --fetch-assets` (or `python -m innatura.viz.assets`) once.",
            file=sys.stderr,
        )
    cmd = server_command(args.host, args.port, app)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"innatura viz: serving on {args.host}: reachable from other machines", file=sys.stderr)
    print(f"innatura viz: http://{args.host}:{args.port} (Ctrl-C stops)", file=sys.stderr)
    logger.info("running %s", " ".join(cmd))
    return serve(cmd, server_env(cache_dir, scenario))
