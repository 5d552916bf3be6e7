"""``innatura viz``: locating the page without importing it, the server command, serving."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from innatura.planner.errors import InvalidInputError

from innatura.cli import viz as cli_viz

ROOT = Path(__file__).resolve().parent.parent


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_viz.configure(parser)
    return parser.parse_args(list(argv))


def test_defaults_bind_to_localhost():
    args = _parse()
    assert (args.scenario, args.host, args.port, args.fetch_assets) == (None, "127.0.0.1", 8765, False)
    args = _parse("selviaria", "--host", "0.0.0.0", "--port", "9000", "--fetch-assets")
    assert (args.scenario, args.host, args.port, args.fetch_assets) == ("selviaria", "0.0.0.0", 9000, True)


def test_app_path_is_the_page_file():
    path = cli_viz.app_path()
    assert path.name == "app.py" and path.parent.name == "viz"
    assert path.resolve() == (ROOT / "viz" / "app.py").resolve()


def test_cli_module_imports_neither_viz_nor_solara():
    code = (
        "import sys, innatura.cli.viz as m; m.app_path(); "
        "bad = [k for k in sys.modules if k == 'innatura.viz' or k.startswith(('innatura.viz.', 'solara'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_server_command_and_environment(tmp_path):
    cmd = cli_viz.server_command("127.0.0.1", 8123, tmp_path / "app.py")
    assert cmd[:4] == [sys.executable, "-m", "solara", "run"]
    assert cmd[4] == str(tmp_path / "app.py")
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8123"
    assert "--production" in cmd and "--no-open" in cmd
    env = cli_viz.server_env(tmp_path, "selviaria", base={"PATH": "/bin", cli_viz.SCENARIO_ENV: "old"})
    assert env[cli_viz.ASSET_DIR_ENV] == str(tmp_path)
    assert env[cli_viz.SCENARIO_ENV] == "selviaria"
    assert cli_viz.SCENARIO_ENV not in cli_viz.server_env(tmp_path, None, base={cli_viz.SCENARIO_ENV: "old"})


def test_asset_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cli_viz.ASSET_DIR_ENV, str(tmp_path / "cdn"))
    assert cli_viz.asset_dir() == tmp_path / "cdn"
    monkeypatch.delenv(cli_viz.ASSET_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli_viz.asset_dir() == tmp_path / "cache" / "innatura" / "solara-cdn"


def test_bad_port_is_rejected(capsys):
    from innatura.cli import main

    assert main(["viz", "--port", "70000"]) == 2
    assert "argument --port: expected a whole number in [0, 65535], got 70000" in capsys.readouterr().err


def test_unknown_scenario_is_rejected_before_serving():
    with pytest.raises(InvalidInputError, match=r"unknown scenario 'atlantis'.*selviaria"):
        cli_viz.run(_parse("atlantis"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_innatura_viz_serves_the_page_and_stops_on_ctrl_c(tmp_path):
    pytest.importorskip("solara")
    port = _free_port()
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))  # an empty cache: the command warns
    env.pop(cli_viz.ASSET_DIR_ENV, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "innatura", "viz", "selviaria", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    status = response.status
                    body = response.read().decode("utf-8", "replace")
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        assert status == 200, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert "solara" in body.lower()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "asset cache" in out and "is empty" in out
    assert f"http://127.0.0.1:{port}" in out
    assert proc.returncode == 0, out
