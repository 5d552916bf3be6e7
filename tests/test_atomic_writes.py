"""planner.atomic: whole files or nothing."""

from __future__ import annotations

import stat

import pytest
from innatura.planner.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_bytes(target, b"second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_failing_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"half")
        raise RuntimeError("writer died")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
