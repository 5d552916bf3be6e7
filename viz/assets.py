"""Fill solara's front-end asset cache from the npm registry, so the view works offline.

solara serves its front end (the Vue app bundle, require.js, the grid layout that Mesa's
page uses, ...) through ``/_solara/cdn/<package>@<version>/<file>``, a proxy to a public
CDN. Before going to the network the proxy looks in the folder named by the environment
variable ``SOLARA_ASSETS_PROXY_CACHE_DIR``. This module fills that folder: it reads the
exact ``<package>@<version>`` references from the INSTALLED solara (its page template and
its Vue components), runs ``npm pack`` for the missing ones and unpacks each tarball into
``<dir>/<package>@<version>/`` (the tarball's leading ``package/`` folder stripped).
Packages already present are left alone, so running it twice fetches nothing.

Run it as ``python -m innatura.viz.assets [--dir DIR]`` or through ``innatura viz --fetch-assets``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from innatura.planner.errors import InnaturaError

from innatura.cli.viz import ASSET_DIR_ENV, default_asset_dir

__all__ = [
    "AssetFetchError",
    "AssetPackage",
    "fill_cache",
    "main",
    "missing_packages",
    "required_packages",
    "solara_root",
]

logger = logging.getLogger(__name__)

#: A CDN reference in solara's sources: ``{{cdn}}/pkg@ver`` (page template) or
#: ``${this.getCdn()}/pkg@ver`` (Vue components). Scoped names (``@scope/pkg``) included.
_CDN_REFERENCE = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{[^}]*[cC]dn[^}]*\})/"
    r"(?P<name>(?:@[A-Za-z0-9._-]+/)?[A-Za-z0-9._-]+)@(?P<version>[0-9][A-Za-z0-9.+-]*)/"
)
#: File kinds in the solara package that may name CDN assets.
_SOURCE_SUFFIXES = (".py", ".vue", ".j2", ".html")
#: The two builds of solara's app bundle; the page loads one, chosen by the ipyvue major version.
_VUE2_APP = "@widgetti/solara-vuetify-app"
_VUE3_APP = "@widgetti/solara-vuetify3-app"
#: Marker file written after a package was unpacked completely.
_COMPLETE = ".innatura-complete"


class AssetFetchError(InnaturaError):
    """``npm`` is missing or failed, or a tarball could not be unpacked."""


@dataclass(frozen=True, order=True)
class AssetPackage:
    """One npm package that solara's front end loads through its CDN proxy.

    Attributes:
        name: npm package name, possibly scoped (``@widgetti/vue-grid-layout``).
        version: the version or range exactly as solara writes it in the URL (``2.3.6``, ``5``).
    """

    name: str
    version: str

    @property
    def spec(self) -> str:
        """``name@version``: the npm spec and the folder name under the cache directory."""
        return f"{self.name}@{self.version}"

    def folder(self, cache_dir: Path) -> Path:
        """Where the unpacked package lives in ``cache_dir``."""
        return Path(cache_dir, *self.spec.split("/"))

    def is_present(self, cache_dir: Path) -> bool:
        """Whether a complete unpacked copy is in ``cache_dir``."""
        folder = self.folder(cache_dir)
        return (folder / _COMPLETE).is_file() or (folder / "package.json").is_file()


def solara_root() -> Path:
    """The installed solara package's folder (its page templates and front-end sources)."""
    import solara

    return Path(solara.__file__).parent


def _uses_vue3() -> bool:
    """Mirror solara's own choice of front end (``solara.server.server.vue3``)."""
    import ipyvue

    return str(ipyvue.__version__).startswith("3")


def _source_files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if rel and rel[0] == "website":  # solara's own documentation site, never served here
            continue
        if path.suffix in _SOURCE_SUFFIXES and path.is_file():
            yield path


def required_packages(*, include_both_apps: bool = False) -> list[AssetPackage]:
    """The CDN packages that the installed solara can ask for, read from its source files.

    Args:
        include_both_apps: also list the app bundle of the Vue version that is NOT in use
            (solara loads ``solara-vuetify-app`` with ipyvue < 3 and ``solara-vuetify3-app``
            with ipyvue 3).

    Returns:
        Sorted, de-duplicated packages, including the font-awesome stylesheet package that
        solara's settings name.

    Raises:
        AssetFetchError: when no reference at all is found (an unknown solara layout).
    """
    root = solara_root()
    found: set[AssetPackage] = set()
    for path in _source_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _CDN_REFERENCE.finditer(text):
            found.add(AssetPackage(match["name"], match["version"]))
    from solara.server import settings as server_settings

    fontawesome = server_settings.assets.fontawesome_path.strip("/").split("/")[0]
    if "@" in fontawesome.lstrip("@"):
        name, _, version = fontawesome.rpartition("@")
        found.add(AssetPackage(name, version))
    if not any(p.name in (_VUE2_APP, _VUE3_APP) for p in found):
        raise AssetFetchError(
            f"no solara app bundle reference found under {root}; this solara version "
            "lays out its front end differently than expected"
        )
    if not include_both_apps:
        unused = _VUE2_APP if _uses_vue3() else _VUE3_APP
        found = {p for p in found if p.name != unused}
    return sorted(found)


def missing_packages(cache_dir: Path, packages: Sequence[AssetPackage] | None = None) -> list[AssetPackage]:
    """The packages of ``packages`` (default: :func:`required_packages`) not yet in ``cache_dir``."""
    packages = required_packages() if packages is None else packages
    return [p for p in packages if not p.is_present(Path(cache_dir))]


def _npm_pack(npm: str, specs: Sequence[str], dest: Path) -> dict[str, Path]:
    """``npm pack`` every spec into ``dest``; returns package name -> tarball path."""
    cmd = [npm, "pack", *specs, "--json", "--pack-destination", str(dest)]
    logger.info("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise AssetFetchError(f"npm not found ({npm!r}); install Node.js/npm or pass --npm PATH") from exc
    if proc.returncode != 0:
        raise AssetFetchError(f"npm pack {' '.join(specs)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    try:
        entries = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssetFetchError(f"npm pack printed no JSON: {proc.stdout[-500:]!r}") from exc
    return {entry["name"]: dest / entry["filename"] for entry in entries}


def _unpack(tarball: Path, target: Path) -> None:
    """Unpack ``tarball`` into ``target`` without its leading folder; atomic on success."""
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = []
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if len(parts) < 2 or not (member.isfile() or member.isdir()):
                    continue
                member.name = str(Path(*parts[1:]))
                members.append(member)
            tar.extractall(staging, members=members, filter="data")
        (staging / _COMPLETE).write_text(tarball.name + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except (tarfile.TarError, OSError) as exc:
        raise AssetFetchError(f"could not unpack {tarball.name} into {target}: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def fill_cache(
    cache_dir: Path | str,
    *,
    packages: Sequence[AssetPackage] | None = None,
    npm: str = "npm",
) -> list[AssetPackage]:
    """Fetch the missing packages into ``cache_dir`` (solara's proxy cache layout).

    Args:
        cache_dir: the folder to fill; created when missing.
        packages: what to fetch; default :func:`required_packages`.
        npm: the npm executable.

    Returns:
        The packages fetched by this call (empty when everything was there already).

    Raises:
        AssetFetchError: npm is missing or failed, or a tarball could not be unpacked.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = missing_packages(cache_dir, packages)
    if not todo:
        logger.info("asset cache %s is complete", cache_dir)
        return []
    with tempfile.TemporaryDirectory(prefix="innatura-npm-") as tmp:
        tarballs = _npm_pack(npm, [p.spec for p in todo], Path(tmp))
        for package in todo:
            tarball = tarballs.get(package.name)
            if tarball is None or not tarball.is_file():
                raise AssetFetchError(f"npm pack did not produce a tarball for {package.spec}")
            target = package.folder(cache_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            _unpack(tarball, target)
            logger.info("unpacked %s into %s", package.spec, target)
    return todo


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m innatura.viz.assets``: fill (or with ``--check``, check) the asset cache."""
    parser = argparse.ArgumentParser(prog="python -m innatura.viz.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=f"cache folder (default: ${ASSET_DIR_ENV} or {default_asset_dir()})",
    )
    parser.add_argument("--npm", default="npm", help="npm executable (default: npm)")
    parser.add_argument("--list", action="store_true", help="print the packages solara needs and exit")
    parser.add_argument("--check", action="store_true", help="exit 1 if a package is missing; fetch nothing")
    args = parser.parse_args(argv)
    cache_dir = args.dir or Path(os.environ.get(ASSET_DIR_ENV) or default_asset_dir())
    try:
        packages = required_packages()
        if args.list:
            for p in packages:
                print(p.spec)
            return 0
        if args.check:
            missing = missing_packages(cache_dir, packages)
            for p in missing:
                print(f"missing: {p.spec}")
            print(f"{cache_dir}: {len(packages) - len(missing)}/{len(packages)} packages present")
            return 1 if missing else 0
        fetched = fill_cache(cache_dir, packages=packages, npm=args.npm)
    except AssetFetchError as exc:
        print(f"viz.assets: error: {exc}", file=sys.stderr)
        return 2
    print(f"{cache_dir}: fetched {len(fetched)}, {len(packages)} packages present")
    for p in fetched:
        print(f"  {p.spec}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
