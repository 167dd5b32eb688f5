"""A man in the middle for the tool tests: a TCP proxy on 127.0.0.1 that edits Parley frames.

It relays the Receiver's bytes to the Emitter untouched and cuts the
Emitter's stream into frames (§4.1: a 4-byte big-endian length, then the
body), so that a test can flip a byte of a DATA record, drop one, swap two,
cut the connection, or stall.  Frames are told apart by the message type
(key 0 of the body's CBOR map, §4.3), read with the independent ``cbor2``.
"""

from __future__ import annotations

import socket
import threading

import cbor2

E_AUTH, DATA = 3, 4


class FrameProxy:
    """``mode``: "flip", "drop", "swap", "cut", "stall" or "pass"; ``record``: the DATA index."""

    def __init__(self, target_port: int, mode: str, record: int = 3) -> None:
        self.target_port = target_port
        self.mode = mode
        self.record = record
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.data_seen = 0
        self.acted = threading.Event()  # the edit was made
        self.finished = threading.Event()
        self._held: bytes | None = None
        self._released = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.listener.settimeout(30)
        try:
            emitter, _ = self.listener.accept()
        except OSError:
            self.finished.set()
            return
        receiver = socket.create_connection(("127.0.0.1", self.target_port))
        back = threading.Thread(target=self._relay, args=(receiver, emitter), daemon=True)
        back.start()
        try:
            self._forward(emitter, receiver)
        finally:
            back.join(30)
            for s in (emitter, receiver):
                s.close()
            self.listener.close()
            self.finished.set()

    @staticmethod
    def _relay(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 16):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _frames(self, src: socket.socket):
        buf = bytearray()
        while True:
            try:
                data = src.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                n = int.from_bytes(buf[:4], "big")
                if len(buf) < 4 + n:
                    break
                frame = bytes(buf[: 4 + n])
                del buf[: 4 + n]
                yield frame

    def _forward(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            for frame in self._frames(src):
                mtype = cbor2.loads(frame[4:])[0]
                if self.mode == "stall" and mtype == E_AUTH:
                    dst.sendall(frame)  # the handshake completes, then nothing more moves
                    self.acted.set()
                    self._released.wait(60)
                    return
                for out in self._edit(mtype, frame):
                    if out is None:  # cut: both connections end here
                        self.acted.set()
                        for s in (src, dst):
                            s.shutdown(socket.SHUT_RDWR)
                        return
                    dst.sendall(out)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _edit(self, mtype: int, frame: bytes):
        if mtype != DATA:
            yield frame
            return
        index = self.data_seen
        self.data_seen += 1
        if index != self.record and not (self.mode == "swap" and index == self.record + 1):
            yield frame
            return
        if self.mode == "flip":
            self.acted.set()
            edited = bytearray(frame)
            edited[4 + 12] ^= 0x01  # inside ct: after the map head and the ct head
            yield bytes(edited)
        elif self.mode == "drop":
            self.acted.set()
        elif self.mode == "swap":
            if index == self.record:
                self._held = frame
            else:
                self.acted.set()
                yield frame
                yield self._held
        elif self.mode == "cut":
            yield frame
            yield None
        else:
            yield frame

    def close(self) -> None:
        self._released.set()
        try:
            self.listener.close()
        except OSError:
            pass
