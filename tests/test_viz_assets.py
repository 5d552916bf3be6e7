"""viz.assets: the package list read from the installed solara, and the cache layout it fills.

``npm`` is replaced by a small script that writes npm-style tarballs (``package/...``) and
prints ``npm pack --json`` output, so the layout, idempotence and error paths are checked
without a network.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("solara")

from innatura.viz import assets
from innatura.viz.assets import AssetFetchError, AssetPackage, fill_cache, missing_packages, required_packages

FAKE_NPM = textwrap.dedent(
    """\
    import io, json, os, sys, tarfile
    args = sys.argv[1:]
    with open(os.environ["FAKE_NPM_LOG"], "a") as log:
        log.write(" ".join(args) + "\\n")
    if os.environ.get("FAKE_NPM_FAIL"):
        print("npm error 404 Not Found", file=sys.stderr)
        sys.exit(1)
    dest = args[args.index("--pack-destination") + 1]
    specs = [a for a in args[1:] if not a.startswith("--") and a != dest]
    out = []
    for spec in specs:
        name, _, version = spec.rpartition("@")
        filename = name.lstrip("@").replace("/", "-") + "-" + version + ".tgz"
        with tarfile.open(os.path.join(dest, filename), "w:gz") as tar:
            for path, text in (("package/package.json", json.dumps({"name": name})),
                               ("package/dist/main.js", "// " + spec)):
                data = text.encode()
                info = tarfile.TarInfo(path)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        out.append({"id": spec, "name": name, "version": version, "filename": filename})
    print(json.dumps(out))
    """
)


@pytest.fixture
def fake_npm(tmp_path, monkeypatch) -> tuple[str, Path]:
    script = tmp_path / "fake_npm.py"
    script.write_text(FAKE_NPM)
    wrapper = tmp_path / "npm"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {script} \"$@\"\n")
    wrapper.chmod(0o755)
    log = tmp_path / "npm.log"
    log.touch()
    monkeypatch.setenv("FAKE_NPM_LOG", str(log))
    return str(wrapper), log


def test_required_packages_read_from_installed_solara():
    packages = required_packages()
    by_name = {p.name: p.version for p in packages}
    # what the Vue 2 page (ipyvue < 3) and Mesa's grid layout load
    assert "@widgetti/solara-vuetify-app" in by_name
    assert "@widgetti/solara-vuetify3-app" not in by_name
    assert "@widgetti/vue-grid-layout" in by_name
    assert "requirejs" in by_name and "font-awesome" in by_name
    for package in packages:
        assert re.fullmatch(r"\d+(\.\d+)*(-[\w.]+)?", package.version), package
    template = (Path(assets.solara_root()) / "server" / "templates" / "solara.html.j2").read_text()
    app = next(p for p in packages if p.name == "@widgetti/solara-vuetify-app")
    assert app.spec in template
    both = {p.name for p in required_packages(include_both_apps=True)}
    assert "@widgetti/solara-vuetify3-app" in both


def test_package_folder_layout(tmp_path):
    package = AssetPackage("@widgetti/vue-grid-layout", "2.3.13-alpha.2")
    assert package.folder(tmp_path) == tmp_path / "@widgetti" / "vue-grid-layout@2.3.13-alpha.2"
    assert AssetPackage("vega", "5").folder(tmp_path) == tmp_path / "vega@5"


def test_fill_cache_unpacks_without_leading_folder_and_is_idempotent(tmp_path, fake_npm):
    npm, log = fake_npm
    packages = [AssetPackage("@widgetti/vue-grid-layout", "2.3.13-alpha.2"), AssetPackage("requirejs", "2.3.6")]
    cache = tmp_path / "cdn"
    fetched = fill_cache(cache, packages=packages, npm=npm)
    assert fetched == packages
    grid = cache / "@widgetti" / "vue-grid-layout@2.3.13-alpha.2"
    assert (grid / "dist" / "main.js").read_text() == "// @widgetti/vue-grid-layout@2.3.13-alpha.2"
    assert json.loads((grid / "package.json").read_text()) == {"name": "@widgetti/vue-grid-layout"}
    assert not (grid / "package").exists()
    assert (cache / "requirejs@2.3.6" / "dist" / "main.js").is_file()
    assert missing_packages(cache, packages) == []
    calls = log.read_text().splitlines()
    assert len(calls) == 1  # one npm call for every missing package
    assert fill_cache(cache, packages=packages, npm=npm) == []
    assert log.read_text().splitlines() == calls  # nothing fetched the second time
    assert not [p for p in cache.rglob(".unpack-*")]  # no staging folders left behind


def test_only_missing_packages_are_fetched(tmp_path, fake_npm):
    npm, log = fake_npm
    cache = tmp_path / "cdn"
    first, second = AssetPackage("requirejs", "2.3.6"), AssetPackage("font-awesome", "4.5.0")
    fill_cache(cache, packages=[first], npm=npm)
    assert fill_cache(cache, packages=[first, second], npm=npm) == [second]
    assert log.read_text().splitlines()[-1].split()[1:2] == ["font-awesome@4.5.0"]


def test_npm_failure_is_a_clear_error(tmp_path, fake_npm, monkeypatch):
    npm, _ = fake_npm
    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    with pytest.raises(AssetFetchError, match=r"npm pack requirejs@2.3.6 failed .*404 Not Found"):
        fill_cache(tmp_path / "cdn", packages=[AssetPackage("requirejs", "2.3.6")], npm=npm)
    assert missing_packages(tmp_path / "cdn", [AssetPackage("requirejs", "2.3.6")])


def test_missing_npm_is_a_clear_error(tmp_path):
    with pytest.raises(AssetFetchError, match="npm not found"):
        fill_cache(tmp_path, packages=[AssetPackage("requirejs", "2.3.6")], npm=str(tmp_path / "no-npm"))


def test_command_line_list_and_check(tmp_path, capsys):
    assert assets.main(["--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == [p.spec for p in required_packages()]
    assert assets.main(["--check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"missing: {listed[0]}" in out and f"0/{len(listed)} packages present" in out
