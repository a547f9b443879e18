"""Reading the files of artifact references (`add_reference`): `file://`, `http(s)://` and
`s3://` (through the server's S3 code in `trackway._native`, configured by the `AWS_*`
environment: `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`).

A reference logged with `checksum=True` records the SHA-256 of what it pointed at; a download
streams into a temporary file beside the destination while hashing, and only bytes that match
(digest and size) are renamed into place, so the destination is never half-written or wrong. A
mismatch is retried, then raised.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse

ATTEMPTS = 3
CHUNK = 1 << 20
HTTP_TIMEOUT_S = 60


def _copy_hashing(src, out) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
    return h.hexdigest(), size


def fetch(uri: str, dest) -> tuple[str, int]:
    """Streams the referenced bytes into `dest` (a path, or None to only hash them); returns
    `(sha256 hex, size)`. Raises OSError (unreachable, missing) or ValueError (scheme)."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "s3":
        from .. import _native

        return _native.fetch_s3(uri, dest)
    out = open(dest, "wb") if dest is not None else None
    try:
        if parsed.scheme == "file":
            with open(urllib.parse.unquote(parsed.path), "rb") as src:
                return _copy_hashing(src, out)
        if parsed.scheme in ("http", "https"):
            from urllib.request import urlopen  # lazily: it pulls in http.client and email

            with urlopen(uri, timeout=HTTP_TIMEOUT_S) as src:
                return _copy_hashing(src, out)
        raise ValueError(f"downloading {parsed.scheme}:// references is not supported")
    finally:
        if out is not None:
            out.close()


def download(uri: str, dest: str, sha256, size) -> None:
    """Places the referenced file at `dest`, verified against `sha256` (and `size`) when the
    reference recorded one."""
    tmp = f"{dest}.part-{os.getpid()}"
    problem = None
    try:
        for _ in range(ATTEMPTS):
            got, got_size = fetch(uri, tmp)
            if sha256 is None or (got == sha256 and (not size or got_size == size)):
                os.replace(tmp, dest)
                return
            problem = (
                f"{uri} now has SHA-256 {got} ({got_size} bytes), not the logged {sha256} "
                f"({size} bytes)"
            )
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    raise ValueError(problem)
