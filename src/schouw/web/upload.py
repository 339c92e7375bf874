"""Streaming multipart upload straight to disk under server-chosen names, with a size limit.

Starlette's form parser spools files to the system temp folder first; a multi-gigabyte
orthophoto would then be written twice, and the size limit could only be checked after the
whole body had arrived. Here every chunk goes to ``dest_dir/<random>.part`` as it comes in,
the byte count is checked as it grows, and on any failure every file written so far is removed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header


class UploadError(ValueError):
    """The request body is not an acceptable upload (HTTP 422)."""


class UploadTooLarge(UploadError):
    """The request body is over the size limit (HTTP 413)."""


@dataclass
class ReceivedFile:
    field: str
    filename: str  # the client's name: display only, never a path on the server
    path: Path
    size: int = 0


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, ReceivedFile] = field(default_factory=dict)

    def discard(self) -> None:
        for f in self.files.values():
            f.path.unlink(missing_ok=True)


def plain_filename(name: str) -> str:
    """``name`` if it is a plain file name; :class:`UploadError` if it holds a path or is empty."""
    if not name or "/" in name or "\\" in name or name in (".", "..") or any(ord(c) < 32 for c in name) or len(name) > 255:
        raise UploadError(f"file name {name!r} is not accepted: expected a plain file name without a path")
    return name


async def receive(request, dest_dir: Path, max_bytes: int, file_fields: tuple[str, ...], max_field_bytes: int = 10_000) -> Upload:
    """Parse ``request``'s multipart body; files of ``file_fields`` go to ``dest_dir``, other fields are kept as text."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise UploadError("expected a multipart/form-data body with a 'file' part")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise UploadTooLarge(f"upload of {int(declared)} bytes is over the limit of {max_bytes} bytes")
    dest_dir.mkdir(parents=True, exist_ok=True)
    up = Upload()
    state: dict = {"headers": {}, "name": b"", "value": b"", "part": None, "text": bytearray()}
    pending: list[tuple] = []
    handles: dict[str, object] = {}

    def on_part_begin() -> None:
        state["headers"], state["part"], state["text"] = {}, None, bytearray()

    def on_header_field(data, start, end) -> None:
        state["name"] += data[start:end]

    def on_header_value(data, start, end) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["name"].lower()] = state["value"]
        state["name"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts:
            if name not in file_fields:
                raise UploadError(f"unexpected file part {name!r}; expected {', '.join(file_fields)}")
            if name in up.files:
                raise UploadError(f"part {name!r} given twice")
            filename = plain_filename(opts[b"filename"].decode("utf-8", "replace"))
            f = ReceivedFile(name, filename, dest_dir / f"{secrets.token_hex(12)}.part")
            up.files[name] = f
            handles[name] = open(f.path, "wb")
            state["part"] = f
        else:
            state["part"] = name

    def on_part_data(data, start, end) -> None:
        part = state["part"]
        if isinstance(part, ReceivedFile):
            pending.append((part, bytes(data[start:end])))
        else:
            state["text"] += data[start:end]
            if len(state["text"]) > max_field_bytes:
                raise UploadError(f"form field {part!r} is longer than {max_field_bytes} bytes")

    def on_part_end() -> None:
        part = state["part"]
        if isinstance(part, str):
            up.fields[part] = state["text"].decode("utf-8", "replace")

    def flush() -> None:
        for part, data in pending:
            handles[part.field].write(data)
            part.size += len(data)
        pending.clear()

    callbacks = dict(on_part_begin=on_part_begin, on_header_field=on_header_field, on_header_value=on_header_value,
                     on_header_end=on_header_end, on_headers_finished=on_headers_finished, on_part_data=on_part_data,
                     on_part_end=on_part_end)
    parser = MultipartParser(params[b"boundary"], callbacks)
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes:
                raise UploadTooLarge(f"upload is over the limit of {max_bytes} bytes")
            parser.write(chunk)
            if pending:
                await anyio.to_thread.run_sync(flush)
        parser.finalize()
        flush()
    except BaseException as exc:
        for h in handles.values():
            h.close()
        up.discard()
        if isinstance(exc, FormParserError):
            raise UploadError(f"the multipart body is malformed: {exc}") from None
        raise
    for h in handles.values():
        h.close()
    return up
