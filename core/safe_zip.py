"""Zip and .npz archives from untrusted sources: checked before read, never unpickled.

Project files are zip archives and carry their weights as an .npz (itself a zip of
``.npy`` arrays).  Reading one treats it as hostile: member names, compression method,
encryption flags, sizes and compression ratios are checked from the central directory
before anything is decompressed; ``.npy`` headers are parsed with numpy's literal-only
reader; only plain numeric dtypes are accepted; an array is allocated only after its
declared size has been checked against the member's size, and then filled in chunks.
Writing is deterministic (fixed dates), so the same arrays always give the same bytes.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

MAX_RATIO = 200                  # uncompressed / compressed, for members over 1 MiB
RATIO_FREE_BYTES = 1024**2       # small members may compress well (JSON does)
NUMERIC_KINDS = "biuf"           # bool, signed, unsigned, float
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_CHUNK = 16 * 1024**2
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")   # zip local file header, 30 bytes


class ArchiveError(Exception):
    """An archive is unsafe or damaged; the message is one line for people."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


# ---- checking members ------------------------------------------------------------------


def safe_member_name(name: str) -> bool:
    """No parent-folder parts, no absolute or drive paths, no NUL: safe to extract."""
    parts = name.replace("\\", "/").split("/")
    absolute = name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
    return not (absolute or ".." in parts or "\x00" in name)


def check_members(infos: list[zipfile.ZipInfo], where: str, max_members: int,
                  max_total: int) -> dict[str, zipfile.ZipInfo]:
    """Refuse unsafe names, unknown compression, encryption and bombs before reading.

    The sizes come from the central directory; ``zipfile`` never returns more bytes than
    the declared size (and fails the CRC check if the stream disagrees), so checking the
    declared sizes bounds what reading can allocate.
    """
    if len(infos) > max_members:
        raise ArchiveError(f"{where} has {len(infos)} members; at most {max_members} are "
                           "expected. It is not a valid file.")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if not safe_member_name(name):
            raise ArchiveError(f"{where} contains a member with an unsafe name ({name!r}); "
                               "refusing to open it.")
        if name in members:
            raise ArchiveError(f"{where} holds two members named '{name}'; refusing an "
                               "ambiguous file.")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{where}: member '{name}' is encrypted; project files "
                               "are never encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"{where}: member '{name}' uses an unsupported compression "
                               f"method ({info.compress_type}).")
        total += info.file_size
        if total > max_total:
            raise ArchiveError(f"{where} would unpack to more than "
                               f"{_size_text(max_total)}; refusing to open it.")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FREE_BYTES and ratio > MAX_RATIO:
            raise ArchiveError(f"{where}: member '{name}' expands {ratio:.0f} times when "
                               "unpacked (a zip bomb?); refusing to open it.")
        members[name] = info
    return members


def _size_text(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size:,} bytes"


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """A member's bytes: exactly its declared (already checked) size, CRC verified."""
    with archive.open(info) as stream:
        content = stream.read(info.file_size + 1)
    if len(content) != info.file_size:
        raise ArchiveError(f"{where}: member '{info.filename}' is truncated or damaged.")
    return content


class _Window(io.RawIOBase):
    """A read-only, seekable view of bytes [start, start + size) of a file.

    A stored (uncompressed) member is a contiguous range of the archive, so a nested
    archive in it can be read in place, with real seeks and no copy in memory.
    """

    def __init__(self, path: str | os.PathLike, start: int, size: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start, self._size, self._pos = start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = min(max(base + offset, 0), self._size)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self._size - self._pos)
        if count <= 0:
            return 0
        self._file.seek(self._start + self._pos)
        got = self._file.readinto(memoryview(buffer)[:count]) or 0
        self._pos += got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def open_member(path: str | os.PathLike, archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                where: str) -> io.IOBase:
    """A seekable stream of a member: in place if stored, else its bytes in memory."""
    if info.compress_type != zipfile.ZIP_STORED:
        return io.BytesIO(read_member(archive, info, where))
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise ArchiveError(f"{where}: the header of member '{info.filename}' is damaged.")
    fields = _LOCAL_HEADER.unpack(header)
    start = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
    return _Window(path, start, info.file_size)


# ---- .npz and .npy ---------------------------------------------------------------------


def read_npz(source: bytes | io.IOBase, where: str, max_arrays: int,
             max_total: int) -> dict[str, np.ndarray]:
    """Arrays of an untrusted .npz (bytes or a seekable stream), never unpickled."""
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{where} is not a valid .npz archive.") from exc
    with archive:
        members = check_members(archive.infolist(), where, max_arrays, max_total)
        arrays = {}
        for name, info in members.items():
            if not name.endswith(".npy"):
                raise ArchiveError(f"{where} holds '{name}', which is not a .npy array.")
            with archive.open(info) as member:
                arrays[name[:-4]] = read_npy(member, info.file_size, f"{where}: '{name[:-4]}'")
    return arrays


def read_npy(stream: Any, size: int, where: str) -> np.ndarray:
    """One ``.npy`` array of ``size`` bytes from ``stream``.

    Refuses object and structured dtypes, and any header whose shape does not account
    for exactly the member's bytes (checked before the array is allocated).
    """
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, TypeError, SyntaxError, EOFError) as exc:
        raise ArchiveError(f"{where} is not a valid .npy array ({exc}).") from exc
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in NUMERIC_KINDS:
        what = "Python objects (pickled data)" if dtype.hasobject else f"{dtype} values"
        raise ArchiveError(f"{where} holds {what}; only numeric arrays are accepted, "
                           "and pickled data is never loaded.")
    count = math.prod(int(d) for d in shape)
    data_size = size - stream.tell()
    if data_size != count * dtype.itemsize:
        raise ArchiveError(f"{where}: its data ({data_size} bytes) does not match its shape "
                           f"{tuple(shape)}; the file is damaged.")
    array = np.empty(count, dtype=dtype)
    _fill(stream, array.view(np.uint8), where)
    return array.reshape(shape, order="F" if fortran else "C")


def _fill(stream: Any, target: np.ndarray, where: str) -> None:
    """Read exactly ``target.size`` bytes into ``target``, chunk by chunk."""
    done = 0
    while done < target.size:
        chunk = stream.read(min(_CHUNK, target.size - done))
        if not chunk:
            raise ArchiveError(f"{where} is truncated.")
        target[done:done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        done += len(chunk)


def zip_info(name: str, compression: int) -> zipfile.ZipInfo:
    """A member entry with a fixed date, so that output does not depend on the clock."""
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def write_npz(stream: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Stream an .npz archive (readable by ``np.load``) with fixed dates.

    Arrays are written member by member in chunks, never copied whole; ``stream`` need
    not be seekable (zipfile then writes data descriptors).
    """
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            with archive.open(zip_info(f"{key}.npy", zipfile.ZIP_STORED), "w",
                              force_zip64=True) as member:
                npy_format.write_array(member, np.asarray(array), allow_pickle=False)


def write_npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of :func:`write_npz` (for small archives and tests)."""
    buffer = io.BytesIO()
    write_npz(buffer, arrays)
    return buffer.getvalue()
