"""The persistent cache: hits across processes, misses after changes,
never breaking a caller, and never running what others could have written."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import pathlib
import stat
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast import _api, _diskcache

# Owner and mode checks are POSIX; Windows keeps the cache as it was.
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")

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


LISTED_MODULE = '''
import numpy as np

SCALE = {scale}


def f(x):
    parts = [x, x ** 2]  # (array code at a float: a list)
    return np.exp(np.sin(parts[0])) * np.tanh(parts[1]) * SCALE
'''


def test_array_code_at_floats_is_read_from_the_cache_as_scalar_code_is(
        cache, tmp_path):
    folder, generated = cache
    path = tmp_path / "listed.py"
    path.write_text(LISTED_MODULE.format(scale=1.0))
    first = fourth(load(path, "listed").f)
    value, source = first(0.7), ad.source(first)
    # (one entry a derivative: the handle at floats holds its code)
    assert len(generated) == 4 and len(list(folder.glob("*.json"))) == 4
    _api._generated.clear()
    again = fourth(load(path, "listed_again").f)
    assert len(generated) == 4  # nothing generated (nor lowered) again
    assert again(0.7) == value and ad.source(again) == source
    assert type(again(0.7)) is float
    # a call at arrays goes on to the transform, made anew: it makes code
    np.testing.assert_allclose(again(np.array([0.7, 0.7])), [value, value],
                               rtol=1e-13)
    path.write_text(LISTED_MODULE.format(scale=2.0))
    _api._generated.clear()
    changed = fourth(load(path, "listed_changed").f)
    assert len(generated) == 8  # another SCALE: made again
    assert changed(0.7) == pytest.approx(2 * value, rel=1e-14)


WEIGHTED_MODULE = '''
import numpy as np

WEIGHTS = np.array([1.0, 2.0, 3.0])


def f(x):
    parts = [x, 2 * x]  # (array code at a float: a list)
    return np.sum(WEIGHTS * parts[0] ** 2) + parts[1]
'''


def test_array_code_at_floats_that_reads_an_array_keeps_the_transforms_entry(
        cache, tmp_path):
    # (the handle's key would describe the array by its text: the code is
    # kept as the transform keys it, by the array's shape and dtype)
    folder, generated = cache
    path = tmp_path / "weighted.py"
    path.write_text(WEIGHTED_MODULE)
    assert ad.grad(load(path, "weighted").f)(0.5) == 2 * 6.0 * 0.5 + 2
    (entry,) = folder.glob("*.json")
    written = entry.stat().st_mtime_ns
    _api._generated.clear()
    assert ad.grad(load(path, "weighted_again").f)(0.5) == 8.0
    assert list(folder.glob("*.json")) == [entry]
    assert entry.stat().st_mtime_ns == written  # read, not written again


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


def test_a_derivative_read_from_the_cache_keeps_argument_types(cache,
                                                               tmp_path):
    # (a float64 SCALE makes float64 of a float32 argument: cast back)
    _, generated = cache
    path = write_module(tmp_path, "typed", scale="np.float64(2.0)")
    first = ad.grad(load(path, "typed").f)(np.float32(0.7))
    assert type(first) is np.float32
    _api._generated.clear()
    again = ad.grad(load(path, "typed_again").f)(np.float32(0.7))
    assert len(generated) == 1  # read from the cache
    assert type(again) is np.float32 and again == first
    assert again == pytest.approx(2 * expected_gradient(0.7), rel=1e-6)


OPTIONS_MODULE = '''
def f(x, *, scale={scale}):
    return scale * x ** 3
'''


def test_keyword_only_defaults_are_cached_and_keyed(cache, tmp_path):
    folder, generated = cache
    path = tmp_path / "options.py"
    path.write_text(OPTIONS_MODULE.format(scale=2.0))
    module = load(path, "options")
    assert ad.grad(module.f)(1.0) == 6.0
    assert len(list(folder.glob("*.json"))) == 1
    _api._generated.clear()
    again = load(path, "options_again")
    assert ad.grad(again.f)(1.0) == 6.0
    assert len(generated) == 1  # read from the cache
    again.f.__kwdefaults__ = {"scale": 5.0}
    _api._generated.clear()
    assert ad.grad(again.f)(1.0) == 15.0  # not the entry of scale=2.0
    assert len(generated) == 2
    path.write_text(OPTIONS_MODULE.format(scale=4.0))
    _api._generated.clear()
    assert ad.grad(load(path, "options_edited").f)(1.0) == 12.0
    assert len(generated) == 3
    assert len(list(folder.glob("*.json"))) == 3


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


# -- a cache that others can write is never read --------------------------

@pytest.fixture
def private_cache(cache, monkeypatch):
    """The cache fixture, with the once-per-folder warning memory cleared."""
    monkeypatch.setattr(_diskcache, "_warned", set())
    return cache


def planted(folder: pathlib.Path, module, marker: pathlib.Path) -> None:
    """Make ``folder``'s entry for grad(module.f) write ``marker`` when it
    is read (as an entry planted by someone else could)."""
    ad.grad(module.f)
    (entry,) = folder.glob("*.json")
    content = json.loads(entry.read_text())
    # A decorator runs when the definition does, however it is compiled.
    write = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    content["source"] = f"@(lambda f: {write} and f)\n" + content["source"]
    entry.write_text(json.dumps(content))
    _api._generated.clear()


def test_a_planted_entry_runs_when_read_from_a_private_folder(
        private_cache, tmp_path):
    # What the tests below rely on: reading this entry leaves the marker.
    folder, generated = private_cache
    marker = tmp_path / "marker"
    module = load(write_module(tmp_path, "trusted"), "trusted")
    planted(folder, module, marker)
    ad.grad(module.f)
    assert marker.read_text() == "ran"
    assert len(generated) == 1


@posix_only
def test_a_folder_others_can_write_is_never_read(private_cache, tmp_path):
    folder, generated = private_cache
    marker = tmp_path / "marker"
    module = load(write_module(tmp_path, "shared"), "shared")
    planted(folder, module, marker)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    folder.chmod(0o777)
    with pytest.warns(ad.CacheWarning) as record:
        gradient = ad.grad(module.f)
    assert str(record[0].message) == (
        f"autodiff_ast does not use the cache folder {folder}: other users "
        "can write to it (mode 777), and cache entries are code that runs "
        "when read. Derivatives are generated instead. To use the cache, "
        f"run `chmod 700 {folder}` or set AUTODIFF_AST_CACHE_DIR to a "
        "private folder.")
    assert record[0].filename == __file__  # the user's line
    assert len(record) == 1
    assert not marker.exists()
    assert gradient(0.7) == pytest.approx(expected_gradient(0.7))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    _api._generated.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per folder: no second warning
        ad.grad(module.f)
    assert not marker.exists()
    assert len(generated) == 3


@posix_only
def test_a_folder_of_another_user_is_never_read(private_cache, tmp_path,
                                                monkeypatch):
    folder, _ = private_cache
    marker = tmp_path / "marker"
    module = load(write_module(tmp_path, "foreign"), "foreign")
    planted(folder, module, marker)
    uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    with pytest.warns(ad.CacheWarning) as record:
        ad.grad(module.f)
    assert str(record[0].message) == (
        f"autodiff_ast does not use the cache folder {folder}: it belongs to "
        f"another user (uid {uid}), and cache entries are code that runs "
        "when read. Derivatives are generated instead. To use the cache, "
        "set AUTODIFF_AST_CACHE_DIR to a folder of your own.")
    assert not marker.exists()


@posix_only
def test_an_entry_others_can_write_is_not_read(private_cache, tmp_path):
    folder, generated = private_cache
    marker = tmp_path / "marker"
    module = load(write_module(tmp_path, "writable"), "writable")
    planted(folder, module, marker)
    (entry,) = folder.glob("*.json")
    entry.chmod(0o620)
    with pytest.warns(ad.CacheWarning) as record:
        ad.grad(module.f)
    assert str(record[0].message) == (
        f"autodiff_ast does not read the cache entry {entry}: other users "
        "can write to it (mode 620), and cache entries are code that runs "
        "when read. The derivative is generated again and the entry "
        "rewritten with mode 600.")
    assert not marker.exists()
    assert len(generated) == 2
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert "marker" not in entry.read_text()


@posix_only
def test_folders_we_create_are_private(private_cache, tmp_path, monkeypatch):
    folder = tmp_path / "made" / "for" / "cache"
    monkeypatch.setenv("AUTODIFF_AST_CACHE_DIR", str(folder))
    tmp_path.chmod(0o755)
    module = load(write_module(tmp_path, "created"), "created")
    ad.grad(module.f)
    for made in (folder, folder.parent, folder.parent.parent):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # not ours to change
    (entry,) = folder.iterdir()  # no temporary file left behind
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert entry.stat().st_uid == os.getuid()


def expected_gradient(x: float) -> float:
    """d/dx of exp(sin x) * tanh(x**2) (MODULE with SCALE 1, power 2)."""
    e, t = math.exp(math.sin(x)), math.tanh(x ** 2)
    return e * math.cos(x) * t + e * (1 - t * t) * 2 * x


ARRAY_MODULE = '''
import numpy as np

inputs = np.array([[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0]])
targets = np.array([True, False, True])


def loss(W, b):
    preds = 0.5 * (np.tanh((inputs @ W + b) / 2) + 1)
    return -np.sum(np.log(preds * targets + (1 - preds) * (1 - targets)))
'''


def test_array_derivatives_are_read_from_the_cache(cache, tmp_path,
                                                   monkeypatch):
    from autodiff_ast._array_transforms import ArrayTransform

    folder, _ = cache
    path = tmp_path / "arrays.py"
    path.write_text(ARRAY_MODULE)
    written = []
    original = ArrayTransform.written

    def counting(self, *args):
        written.append(self.__name__)
        return original(self, *args)

    monkeypatch.setattr(ArrayTransform, "written", counting)
    W, b = np.array([0.3, -0.7]), 0.1
    first = load(path, "arrays_first")
    hessian = ad.hessian(first.loss, (0, 1))
    expected = hessian(W, b)
    text = ad.source(hessian, W, b)
    assert written == ["hessian_loss"]
    assert len(list(folder.glob("*.json"))) == 1
    _api._generated.clear()
    again = load(path, "arrays_again")
    hessian_again = ad.hessian(again.loss, (0, 1))
    result = hessian_again(W, b)
    assert written == ["hessian_loss"]  # read, not written again
    assert ad.source(hessian_again, W, b) == text
    for row, expected_row in zip(result, expected):
        for block, expected_block in zip(row, expected_row):
            assert type(block) is type(expected_block)
            np.testing.assert_array_equal(block, expected_block)
    # Another dtype of the data is another program: generated anew.
    path.write_text(ARRAY_MODULE.replace("[True, False, True]",
                                         "[1.0, 0.0, 1.0]"))
    changed = load(path, "arrays_changed")
    ad.hessian(changed.loss, (0, 1))(W, b)
    assert written == ["hessian_loss", "hessian_loss"]


SUMS_MODULE = '''
import numpy as np


def total(x, y):
    return np.sum(x) + np.sum(y)
'''


def test_array_gradients_read_from_the_cache_keep_each_arguments_dtype(
        cache, tmp_path, monkeypatch):
    # Both gradients are ones: one SymPy object, typed and shaped each
    # like its own argument (the cache's entry was read as y's twice).
    from autodiff_ast._array_transforms import ArrayTransform

    written = []
    original = ArrayTransform.written
    monkeypatch.setattr(ArrayTransform, "written", lambda self, *args: (
        written.append(self.__name__), original(self, *args))[1])
    path = tmp_path / "sums.py"
    path.write_text(SUMS_MODULE)
    x, y = np.ones(3, np.float32), np.ones((2, 2))
    first = ad.grad(load(path, "sums_first").total, (0, 1))(x, y)
    _api._generated.clear()
    again = ad.grad(load(path, "sums_again").total, (0, 1))(x, y)
    # (at floats when it is made, at the arrays when called; both read from
    # the cache the second time)
    assert written == ["grad_total"] * 2
    for result in (first, again):
        assert [g.dtype for g in result] == [np.float32, np.float64]
        assert [g.shape for g in result] == [(3,), (2, 2)]
        assert all((g == 1).all() for g in result)


def test_a_programs_digest_tells_every_digit_of_its_constants():
    # str() of a SymPy float keeps 15 digits: 0.1 and the next float
    # printed alike, and a cached derivative could have been another's.
    from autodiff_ast._array_transforms import _digest
    from autodiff_ast._lower_arrays import lower_arrays

    def tenth(x):
        return np.sum(x * 0.1)

    def next_after_tenth(x):
        return np.sum(x * 0.10000000000000002)

    x = np.ones(3)
    assert _digest(lower_arrays(tenth, (x,), (0,))) != _digest(
        lower_arrays(next_after_tenth, (x,), (0,)))
    assert _digest(lower_arrays(tenth, (x,), (0,))) == _digest(
        lower_arrays(tenth, (x,), (0,)))
