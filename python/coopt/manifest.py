# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""Reading a directory's manifest.json with its format checked."""
import json
import os

from .errors import CooptDataError

#: A manifest larger than this is refused before it is read.
MAX_MANIFEST = 256 * 1000 * 1000


def read_manifest(directory, fmt, description):
    if not os.path.exists(directory):
        raise CooptDataError(f"{directory}: no such directory")
    if not os.path.isdir(directory):
        raise CooptDataError(f"{directory}: not a directory (expected a {description})")
    path = os.path.join(directory, "manifest.json")
    if not os.path.isfile(path):
        raise CooptDataError(f"{directory}: not a {description} (no manifest.json)")
    try:
        if os.path.getsize(path) > MAX_MANIFEST:
            raise CooptDataError(f"{path}: larger than {MAX_MANIFEST} bytes")
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except OSError as e:
        raise CooptDataError(f"{path}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise CooptDataError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise CooptDataError(f"{path}: not a JSON object")
    found = manifest.get("format")
    if found != fmt:
        raise CooptDataError(f"{path}: format is {found!r}, expected {fmt!r} (a {description})")
    return manifest, path


def field(path, obj, key, kind, where=""):
    """obj[key], checked to be of `kind` (int excludes bool)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        raise CooptDataError(f"{path}: {where}{key} is {value!r}, expected {getattr(kind, '__name__', kind)}")
    return value
