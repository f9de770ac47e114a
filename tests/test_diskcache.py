"""The persistent cache: hits across processes, misses after changes, and
never breaking a caller."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import autodiff_ast as ad
from autodiff_ast import _api, _diskcache

MODULE = '''
import numpy as np

SCALE = {scale}


def helper(u):
    return u ** {power}


def f(x):
    return np.exp(np.sin(x)) * np.tanh(helper(x)) * SCALE
'''


def write_module(folder: pathlib.Path, name: str, scale: float = 1.0,
                 power: int = 2) -> pathlib.Path:
    path = folder / f"{name}.py"
    path.write_text(MODULE.format(scale=scale, power=power))
    return path


def load(path: pathlib.Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("AUTODIFF_AST_CACHE", "1")
    monkeypatch.setenv("AUTODIFF_AST_CACHE_DIR", str(folder))
    generated = []
    original = _api._generate

    def counting(*args, **kwargs):
        generated.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(_api, "_generate", counting)
    _api._generated.clear()
    yield folder, generated
    _api._generated.clear()


def fourth(function):
    return ad.derivative(function, 4)


def test_second_process_reads_every_order_from_the_cache(cache, tmp_path):
    folder, _ = cache
    write_module(tmp_path, "model")
    script = textwrap.dedent("""
        import sys
        import autodiff_ast as ad
        from autodiff_ast import _api
        import model
        if sys.argv[1] == "second":
            def refuse(*args, **kwargs):
                raise AssertionError("generated instead of read from cache")
            _api._generate = refuse
        d4 = ad.derivative(model.f, 4)
        print(ad.source(d4))
        print(d4(0.7))
    """)
    outputs = []
    for run in ("first", "second"):
        environment = dict(os.environ, PYTHONPATH=str(tmp_path))
        result = subprocess.run([sys.executable, "-c", script, run],
                                env=environment, capture_output=True,
                                text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert len(list(folder.glob("*.json"))) == 4


def test_hit_in_a_fresh_interpreter_state(cache, tmp_path):
    folder, generated = cache
    module = load(write_module(tmp_path, "hit"), "hit")
    first = ad.source(fourth(module.f))
    assert len(generated) == 4
    _api._generated.clear()
    again = load(tmp_path / "hit.py", "hit_again")
    assert ad.source(fourth(again.f)) == first
    assert len(generated) == 4  # nothing generated the second time


@pytest.mark.parametrize("change", [{"scale": 2.0}, {"power": 3}],
                         ids=["global", "inlined-helper"])
def test_a_change_in_what_the_derivative_depends_on_misses(cache, tmp_path,
                                                          change):
    _, generated = cache
    module = load(write_module(tmp_path, "before"), "before")
    before = ad.grad(module.f)(0.7)
    changed = load(write_module(tmp_path, "before", **change), "after")
    _api._generated.clear()
    after = ad.grad(changed.f)(0.7)
    assert len(generated) == 2
    assert after != before


def test_corrupt_entries_are_regenerated(cache, tmp_path):
    folder, generated = cache
    module = load(write_module(tmp_path, "corrupt"), "corrupt")
    expected = ad.grad(module.f)(0.7)
    for entry in folder.glob("*.json"):
        entry.write_text('{"format": 1, "source": "def broken(:", "name": 1}')
    _api._generated.clear()
    assert ad.grad(module.f)(0.7) == expected
    for entry in folder.glob("*.json"):
        entry.write_bytes(b"\x00\xff not json")
    _api._generated.clear()
    assert ad.grad(module.f)(0.7) == expected
    assert len(generated) == 3


def test_unwritable_folder_is_ignored(cache, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("AUTODIFF_AST_CACHE_DIR", str(blocker / "cache"))
    module = load(write_module(tmp_path, "unwritable"), "unwritable")
    assert ad.grad(module.f)(0.0) == 0.0


def test_disabled_cache_writes_nothing(cache, tmp_path, monkeypatch):
    folder, _ = cache
    monkeypatch.setenv("AUTODIFF_AST_CACHE", "0")
    module = load(write_module(tmp_path, "disabled"), "disabled")
    ad.grad(module.f)
    assert not folder.exists()


def test_location_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTODIFF_AST_CACHE", "1")
    monkeypatch.delenv("AUTODIFF_AST_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _diskcache.cache_folder() == tmp_path / "autodiff_ast"


def test_objects_without_a_stable_description_are_not_cached():
    class Opaque:
        value = 2.0

    def uses_opaque(x, holder=Opaque()):
        return x

    assert _diskcache.cache_key(uses_opaque, ()) is None
