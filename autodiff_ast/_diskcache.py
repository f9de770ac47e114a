"""Persistent cache: generated source kept on disk between processes.

An entry is keyed by a hash of everything the generated code depends on:
the file, first line, bytecode and constants of the function and of every
function it can reach through its globals, closure cells and defaults
(keyword-only ones too), the values of the numbers it reads there, the
options asked for, the working directory (the docstring names files
relative to it), the autodiff_ast version and its own code, and the SymPy
version. A value that cannot be fingerprinted reliably makes the function
uncacheable rather than risk a stale derivative.

Location: ``AUTODIFF_AST_CACHE_DIR``, else ``$XDG_CACHE_HOME/autodiff_ast``,
else the platform's user cache folder. ``AUTODIFF_AST_CACHE=0`` turns it
off. A corrupt entry or an unwritable folder never breaks a caller: the
derivative is generated as if there were no cache. Entries are written to a
temporary file and renamed, so concurrent writers never leave a torn file.

An entry is source code that runs when it is read, so on POSIX the cache is
used only while it is private, as pip's and ssh's are: folders we create
(with any parents we create) get mode 0700, entries 0600, and a folder or
entry that belongs to another user or that group or others can write is
neither read nor written (a CacheWarning, once per folder, says how to fix
it). Folder and entry are checked through open descriptors (``openat``), so
a swap between the check and the read cannot slip another file in. On
Windows, which has no such modes, the cache works as it always has.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pathlib
import secrets
import stat
import sys
import tempfile
import types
import warnings
from typing import Any

import numpy as np
import sympy

from ._errors import CacheWarning

__all__ = ["cache_key", "load", "store", "cache_folder"]

_FORMAT = 1


def cache_folder() -> pathlib.Path | None:
    """Where entries live, or None when the cache is turned off."""
    if os.environ.get("AUTODIFF_AST_CACHE", "1").strip().lower() in (
            "0", "false", "no", "off"):
        return None
    explicit = os.environ.get("AUTODIFF_AST_CACHE_DIR")
    if explicit:
        return pathlib.Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return pathlib.Path(xdg) / "autodiff_ast"
    home = pathlib.Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "autodiff_ast"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = pathlib.Path(local) if local else home / "AppData" / "Local"
        return base / "autodiff_ast" / "Cache"
    return home / ".cache" / "autodiff_ast"


class _Unfingerprintable(Exception):
    """A dependency whose state cannot be captured in a key."""


def _describe(value: Any, seen: set[int]) -> Any:
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if isinstance(value, types.FunctionType):
        if id(value) in seen:
            return ["function", value.__qualname__]
        seen.add(id(value))
        return _function(value, seen)
    if value is None or isinstance(value, (bool, int, float, complex, str,
                                           bytes)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, (np.generic,)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, (tuple, list)):
        return [type(value).__name__] + [_describe(v, seen) for v in value]
    if isinstance(value, (np.ufunc, types.BuiltinFunctionType)) or (
            callable(value) and getattr(value, "__module__", "") and
            str(getattr(value, "__module__", "")).startswith(("numpy",
                                                              "math"))):
        return ["callable", getattr(value, "__module__", None),
                getattr(value, "__qualname__", getattr(value, "__name__",
                                                       None))]
    if isinstance(value, type):
        return ["type", value.__module__, value.__qualname__]
    text = repr(value)
    if " at 0x" in text:
        raise _Unfingerprintable(text)
    return ["object", type(value).__qualname__, text]


def _code(code: types.CodeType, globals_: dict[str, Any],
          seen: set[int]) -> Any:
    constants = [_code(c, globals_, seen) if isinstance(c, types.CodeType)
                 else repr(c) for c in code.co_consts]
    reached = [[name, _describe(globals_[name], seen)]
               for name in code.co_names if name in globals_]
    # File and line too: the docstring of a derivative names them.
    return [code.co_filename, code.co_firstlineno, code.co_code.hex(),
            constants, list(code.co_names), list(code.co_varnames),
            list(code.co_freevars), reached]


def _function(fn: types.FunctionType, seen: set[int]) -> Any:
    cells = [_describe(cell.cell_contents, seen)
             for cell in fn.__closure__ or ()]
    defaults = [_describe(v, seen) for v in fn.__defaults__ or ()]
    # (a derivative writes keyword-only defaults into its code too)
    options = [[name, _describe(v, seen)]
               for name, v in (fn.__kwdefaults__ or {}).items()]
    origin = getattr(fn, "__autodiff_ast__", None)
    generated = (None if origin is None else
                 [origin.base, origin.location, list(origin.wrt)])
    return ["function", fn.__qualname__, _code(fn.__code__, fn.__globals__,
                                                seen),
            cells, defaults, options, generated]


@functools.lru_cache(maxsize=None)
def _own_code() -> str:
    """A digest of autodiff_ast's own modules: a change to the generator
    (a development checkout, a patched install) is a change of version."""
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(fun: Any, options: Any) -> str | None:
    """The hash of everything ``fun``'s derivative depends on, or None."""
    try:
        description = _describe(fun, set())
    except (_Unfingerprintable, RecursionError, ValueError):
        return None
    from . import __version__
    material = json.dumps([_FORMAT, __version__, _own_code(),
                           sympy.__version__,
                           sys.version_info[:2], os.getcwd(), repr(options),
                           description], default=repr)
    return hashlib.sha256(material.encode()).hexdigest()


def load(key: str) -> dict[str, Any] | None:
    """The entry stored under ``key``; None if missing, unreadable or not
    private to us."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        text = (_read_private(folder, f"{key}.json") if _CHECKED
                else (folder / f"{key}.json").read_text())
        if text is None:
            return None
        entry = json.loads(text)
    except (OSError, ValueError, UnicodeDecodeError, NotImplementedError):
        return None
    if not (isinstance(entry, dict) and entry.get("format") == _FORMAT
            and isinstance(entry.get("source"), str)
            and isinstance(entry.get("name"), str)):
        return None
    return entry


def store(key: str, entry: dict[str, Any]) -> None:
    """Write an entry atomically; any failure is ignored."""
    folder = cache_folder()
    if folder is None:
        return
    text = json.dumps({"format": _FORMAT, **entry})
    if _CHECKED:
        try:
            _write_private(folder, f"{key}.json", text)
        except (OSError, NotImplementedError):
            pass
        return
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.replace(temporary, folder / f"{key}.json")
    except OSError:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


# -- privacy (POSIX) ---------------------------------------------------------

_CHECKED = os.name == "posix"  # Windows has no owner and mode bits to check
_RUNS = "cache entries are code that runs when read"
_warned: set[str] = set()


def _read_private(folder: pathlib.Path, name: str) -> str | None:
    """The text of ``folder/name`` if both are private to us, else None."""
    directory = _open_private_folder(folder)
    if directory is None:
        return None
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW,
                             dir_fd=directory)
    finally:
        os.close(directory)
    with os.fdopen(descriptor, "rb") as handle:
        problem = _not_private(os.fstat(descriptor))
        if problem is not None:
            _warn_once(folder, (
                f"autodiff_ast does not read the cache entry {folder / name}"
                f": {problem}, and {_RUNS}. The derivative is generated "
                "again and the entry rewritten with mode 600."))
            return None
        return handle.read().decode()


def _write_private(folder: pathlib.Path, name: str, text: str) -> None:
    """Write ``folder/name`` (mode 0600) by renaming a temporary file, if
    the folder is private to us (created so, with mode 0700, if missing)."""
    _make_folders(folder)
    directory = _open_private_folder(folder)
    if directory is None:
        return
    temporary = f"{name}.{secrets.token_hex(8)}.tmp"
    try:
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
            0o600, dir_fd=directory)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
            # rename() replaces an old entry in one step, as os.replace
            # does (which takes no dir_fd on every platform).
            os.rename(temporary, name, src_dir_fd=directory,
                      dst_dir_fd=directory)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=directory)
            except OSError:
                pass
            raise
    finally:
        os.close(directory)


def _make_folders(folder: pathlib.Path) -> None:
    """Create ``folder`` and the parents it lacks, each with mode 0700."""
    missing = []
    while not os.path.lexists(folder) and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # made meanwhile by another process
            pass


def _open_private_folder(folder: pathlib.Path) -> int | None:
    """A descriptor of ``folder`` if it is private to us; None (after a
    warning) if it is not. OSError if it cannot be opened."""
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    status = os.fstat(directory)
    problem = _not_private(status)
    if problem is None:
        return directory
    os.close(directory)
    fix = (f"run `chmod 700 {folder}` or set AUTODIFF_AST_CACHE_DIR to a "
           "private folder" if status.st_uid == os.getuid() else
           "set AUTODIFF_AST_CACHE_DIR to a folder of your own")
    _warn_once(folder, (
        f"autodiff_ast does not use the cache folder {folder}: {problem}, "
        f"and {_RUNS}. Derivatives are generated instead. To use the "
        f"cache, {fix}."))
    return None


def _not_private(status: os.stat_result) -> str | None:
    """Why a file or folder with this status is not private to us."""
    if status.st_uid != os.getuid():
        return f"it belongs to another user (uid {status.st_uid})"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = stat.S_IMODE(status.st_mode)
        return f"other users can write to it (mode {mode:o})"
    return None


def _warn_once(folder: pathlib.Path, message: str) -> None:
    if str(folder) not in _warned:
        _warned.add(str(folder))
        warnings.warn(message, CacheWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The stacklevel of the first frame outside autodiff_ast, so that the
    warning names the user's line."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(2), 2  # 1 is _warn_once
    while frame is not None and os.path.dirname(
            os.path.abspath(frame.f_code.co_filename)) == package:
        frame, level = frame.f_back, level + 1
    return level
