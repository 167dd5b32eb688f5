"""The ``parley`` command line: keys, send and receive a file over TCP, demo.

A thin shell around the sans-IO core (``connection.py``): this module parses
arguments, loads keys and prints results; ``parley.shell`` owns sockets,
clocks, files and the terminal.  docs/tool.md is the manual.
"""

from __future__ import annotations

import argparse
import json
import math
import mimetypes
import os
import signal
import stat
import sys
import threading

from . import keys
from .errors import KeyFileError, ParleyError, PeerAborted
from .shell import header as app_header, keyfiles, memory
from .shell.display import escape, quoted
from .shell.failures import LocalFailure
from .shell.progress import Progress, human_bytes
from .shell.session import DEFAULT_CHUNK, SessionFailed, Summary, Timeouts
from .suites import SUITES, by_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# Local failures (a file, the network) exit 3 or 4: shell/failures.py, docs/tool.md.
MAX_TIMEOUT = 86400.0  # seconds; a longer timeout is a typo, not a wish

HEADER_HELP = """\
application header (sent encrypted and authenticated in E_AUTH, spec §7.1):
  one deterministic CBOR map (spec §4.2) with text keys, each optional:
    "name": the file's name without directories (the sent file's base name, or --name)
    "size": the exact number of bytes (when the input is a regular file)
    "type": a media type (--type, or guessed from the name)
  A receiver given --out DIR/ names the file after "name", sanitised: only the
  last path component, no control or format characters, no leading dots
  (no hidden files, no "..") and at most 255 bytes; without a usable name the
  file is called parley-XXXXXXXX (the start of the transcript hash).  A
  receiver also checks that the bytes received match "size".
"""

PASSWORD_HELP = """\
passwords: --password-file FILE (its first line), else the PARLEY_KEY_PASSWORD
  environment variable, else a prompt on the terminal.
exit status: 0 success; 1 the session failed, or a key (one line on stderr
  names the registry error, spec §11); 2 bad command line; 3 a local file
  (input unreadable, output refused, file exists); 4 the network (connection
  refused, unknown host, address in use); 130 interrupted.
"""


# ----------------------------------------------------------------- arguments


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a timeout is 0 (no limit) or a number of seconds up to "
            f"{MAX_TIMEOUT:g} (a day)"
        )
    return None if value == 0 else value


def _count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 to 1024")
    return value


def _size(text: str) -> int | None:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    body = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = body[-1:] if body[-1:] in units else ""
    try:
        value = int(body[: len(body) - len(unit)], 10) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size (bytes, or with K, M, G, T: 500M)"
        ) from None
    if value < 0 or value >= 1 << 64:
        raise argparse.ArgumentTypeError(f"{text!r}: out of range")
    return None if value == 0 else value


def _rate_arg(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of bytes per second") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 (no minimum) or bytes per second")
    return None if value == 0 else value


def _chunk(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of bytes") from None
    if not 1 <= value <= DEFAULT_CHUNK:
        raise argparse.ArgumentTypeError("the chunk size must be 1 to 262144 bytes (spec §10)")
    return value


def _suite(text: str):
    try:
        return by_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(p: argparse.ArgumentParser, *, receive: bool) -> None:
    p.add_argument(
        "--key", required=True, metavar="PREFIX.key", help="your private key (PKCS#8 PEM, spec §12)"
    )
    p.add_argument(
        "--peer",
        required=True,
        metavar="PEER.pub",
        help="the peer's public key, pinned (SubjectPublicKeyInfo PEM)",
    )
    p.add_argument("--password-file", metavar="FILE", help="read your key's password from FILE")
    t = p.add_argument_group("timeouts (seconds; 0 = no limit; spec §13.2)")
    t.add_argument(
        "--connect-timeout",
        type=_seconds,
        default=None if receive else 10.0,
        metavar="S",
        help=(
            "wait at most S for a sender to connect (default: no limit)"
            if receive
            else "connecting (default 10)"
        ),
    )
    t.add_argument(
        "--handshake-timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="from the connection to the end of the handshake (default 10)",
    )
    t.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=30.0,
        metavar="S",
        help="longest wait for the peer during the transfer (default 30)",
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--json",
        action="store_true",
        help="print a one-line JSON summary (on stdout; on stderr with --out -)",
    )
    o.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is shown only on a terminal anyway)",
    )
    o.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Parley v1: send one file securely to a peer whose public key you hold "
        "(spec/parley.md; manual: docs/tool.md).",
        epilog="first run: parley demo\n\n" + PASSWORD_HELP,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    k = sub.add_parser(
        "keygen",
        help="make a key pair",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=PASSWORD_HELP,
        description="Write PREFIX.key (PKCS#8 PEM, encrypted, mode 0600) and "
        "PREFIX.pub (SubjectPublicKeyInfo PEM).",
    )
    k.add_argument(
        "--suite",
        required=True,
        type=_suite,
        metavar="SUITE",
        help="; ".join(f"{s.name} or {s.alias}" for s in SUITES.values()),
    )
    k.add_argument("--out", required=True, metavar="PREFIX", help="write PREFIX.key and PREFIX.pub")
    k.add_argument("--password-file", metavar="FILE", help="read the new key's password from FILE")
    k.add_argument("--force", action="store_true", help="replace existing files")

    f = sub.add_parser("fingerprint", help="show the fingerprint of key files (spec §12)")
    f.add_argument("files", nargs="+", metavar="FILE", help="public (or private) key files")
    f.add_argument("--password-file", metavar="FILE", help="for encrypted private keys")

    s = sub.add_parser(
        "send",
        help="send a file to a listening receiver",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Connect, run the handshake, send FILE, and succeed only "
        "when the receiver's acknowledgement verifies.",
        epilog=HEADER_HELP + "\n" + PASSWORD_HELP,
    )
    s.add_argument("--connect", required=True, metavar="HOST:PORT", help="the receiver's address")
    s.add_argument("file", metavar="FILE", help="the file to send, or - for standard input")
    s.add_argument("--name", help="the name to announce (default: FILE's base name; none for -)")
    s.add_argument("--type", help="the media type to announce (default: guessed from the name)")
    s.add_argument(
        "--chunk-size",
        type=_chunk,
        default=DEFAULT_CHUNK,
        metavar="BYTES",
        help="plaintext bytes per DATA record (default and maximum 262144)",
    )
    _add_common(s, receive=False)

    r = sub.add_parser(
        "receive",
        help="receive files until stopped (or one, with --once)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Listen and receive from senders until SIGINT or SIGTERM (with --once: "
        "one sender, then exit with its result); write each file only once the whole "
        "message has verified, then acknowledge it.",
        epilog=HEADER_HELP + "\n" + PASSWORD_HELP,
    )
    r.add_argument(
        "--listen",
        required=True,
        metavar="HOST:PORT",
        help="address to listen on (:PORT means 127.0.0.1:PORT; 0.0.0.0:PORT "
        "listens on every interface; port 0: any free port, printed on stderr "
        "and written to --ready-file)",
    )
    r.add_argument(
        "--ready-file",
        metavar="PATH",
        help="once listening, write one JSON line to PATH, atomically (temporary "
        'file + rename): {"event":"listening","host":...,"pid":...,'
        '"port":...}; for scripts, instead of reading stderr',
    )
    r.add_argument(
        "--out",
        required=True,
        metavar="FILE|DIR/|-",
        help="write to FILE (replaced only on success), into DIR/ under the sent "
        "name, or to standard output (after the whole message verified)",
    )
    r.add_argument(
        "--force", action="store_true", help="with DIR/: replace an existing file of the sent name"
    )
    r.add_argument(
        "--no-fsync",
        action="store_true",
        help="do not flush the file to disk before acknowledging it",
    )
    r.add_argument(
        "--max-size",
        type=_size,
        default=None,
        metavar="BYTES",
        help="refuse messages larger than BYTES (500M, 2G; default and 0: no cap)",
    )
    v = r.add_argument_group("serving (docs/tool.md, 'Serving')")
    v.add_argument(
        "--once",
        action="store_true",
        help="accept one sender, then exit with its result (needed for --out -)",
    )
    v.add_argument(
        "--max-sessions",
        type=_count,
        default=8,
        metavar="N",
        help="sessions at once (default 8); further senders wait",
    )
    v.add_argument(
        "--max-per-source",
        type=_count,
        default=4,
        metavar="N",
        help="sessions at once from one address (default 4); more are closed at once",
    )
    v.add_argument(
        "--min-rate",
        type=_rate_arg,
        default=1024.0,
        metavar="BYTES/S",
        help="in the data phase, the least average rate after --rate-grace "
        "(default 1024; 0: none): a trickle cannot hold a slot",
    )
    v.add_argument(
        "--rate-grace",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="seconds of the data phase before --min-rate applies (default 10)",
    )
    _add_common(r, receive=True)

    sub.add_parser("demo", help="a first run: keys, a transfer over loopback, an attack")
    return parser


# ---------------------------------------------------------------- reporting


def describe(error: ParleyError | LocalFailure, peer_role: str | None = None) -> str:
    """``NAME (number, §section): detail``, naming the peer's code for PEER_ABORTED.

    The detail is escaped (control and bidirectional characters, shell/display.py):
    it may quote what a peer sent.
    """
    if isinstance(error, LocalFailure):
        return escape(error.detail)
    detail = error.detail
    hint = _HINTS.get(error.error.name)
    if isinstance(error, PeerAborted):
        told = error.peer_error or f"unregistered code {error.peer_number}"
        # ABORT is not authenticated (§5.7): say so, and give no advice about keys
        # that an attacker on the path could use to talk someone into re-pinning.
        detail = (
            f"the {peer_role or 'peer'} aborted with {told} (an ABORT is not authenticated, "
            "§5.7: it may also come from anyone on the network path)"
        )
        hint = _PEER_HINTS.get(error.peer_error.name if error.peer_error else "")
    text = f"{error.error}: {escape(detail)}" if detail else str(error.error)
    return f"{text}; {hint}" if hint else text


_HINTS = {
    "BAD_SIGNATURE": "is --peer the right public key for this peer? (compare fingerprints "
    "over a trusted channel: parley fingerprint)",
    "KEY_CONFIRMATION_FAILED": "the peer does not share this session's keys "
    "(an attack, or a broken peer)",
}
_PEER_HINTS = {
    "UNSUPPORTED_SUITE": "if it came from the peer, its keys are for another suite",
}


def _json_error(error: ParleyError | LocalFailure, peer_role: str | None) -> dict:
    if isinstance(error, LocalFailure):
        return {
            "name": error.kind,
            "number": None,
            "section": None,
            "detail": describe(error),
            "exit_status": error.exit_status,
        }
    out = {
        "name": error.error.name,
        "number": error.error.number,
        "section": error.error.section,
        "detail": describe(error, peer_role),
    }
    if isinstance(error, PeerAborted):
        out["peer_error"] = {
            "number": error.peer_number,
            "name": error.peer_error.name if error.peer_error else None,
        }
    return out


def _emit_json(stream, record: dict) -> None:
    stream.write(json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n")
    stream.flush()


def _summary_json(summary: Summary) -> dict:
    return {
        "ok": True,
        "command": summary.command,
        "suite": summary.suite,
        "suite_number": summary.suite_number,
        "peer_fingerprint": summary.peer_fingerprint,
        "bytes": summary.bytes,
        "seconds": round(summary.seconds, 6),
        "transcript_hash": summary.transcript_hash,
        "name": summary.name,
        "path": summary.path,
        "peer_address": summary.peer_address,
        "peak_rss_bytes": memory.peak_rss(),
        "warning": summary.warning,
    }


def _rate(summary: Summary) -> str:
    return f"{human_bytes(summary.bytes / summary.seconds)}/s" if summary.seconds > 0 else "-"


# ----------------------------------------------------------------- commands


def _warn(text: str) -> None:
    """A security warning: printed even with --quiet."""
    print(f"parley: {escape(text)}", file=sys.stderr, flush=True)


def _load_keys(args) -> tuple[keys.LongTermPrivateKey, keys.LongTermPublicKey]:
    own = keyfiles.load_own_key(args.key, args.password_file, _warn)
    peer = keyfiles.load_peer_key(args.peer)
    if own.suite != peer.suite:
        raise KeyFileError(
            "KEY_SUITE_MISMATCH",
            f"{args.key} is a suite {own.suite.number} key ({own.suite.name}), "
            f"{args.peer} a suite {peer.suite.number} key ({peer.suite.name}); "
            "both parties must use keys of one suite",
        )
    return own, peer


def _timeouts(args) -> Timeouts:
    return Timeouts(args.connect_timeout, args.handshake_timeout, args.idle_timeout)


def _progress(args, label: str, total: int | None) -> Progress:
    return Progress(sys.stderr, label, total, enabled=not (args.no_progress or args.quiet))


def cmd_keygen(args) -> int:
    secret = keyfiles.password(args.password_file, f"Password for {args.out}.key: ", confirm=True)
    try:
        key_path, pub_path, key = keyfiles.write_key_pair(
            args.suite, args.out, secret, force=args.force
        )
    except FileExistsError as exc:
        raise LocalFailure(
            "EXISTS", f"{exc.args[0]} exists; not overwritten (give --force)"
        ) from None
    except OSError as exc:
        raise LocalFailure("OUTPUT", f"cannot write {exc.filename}: {exc.strerror}") from None
    print(
        f"parley: wrote {key_path} (suite {key.suite.number}, {key.suite.name}; encrypted, "
        f"mode 0600) and {pub_path}\nfingerprint {keys.fingerprint(key)}"
    )
    return EXIT_OK


def cmd_fingerprint(args) -> int:
    for path in args.files:
        key: keys.LongTermPublicKey | keys.LongTermPrivateKey
        try:
            key = keyfiles.load_peer_key(path)
        except KeyFileError:
            key = keyfiles.load_own_key(path, args.password_file, _warn)
        print(f"{keys.fingerprint(key)}  suite {key.suite.number} ({key.suite.name})  {path}")
    return EXIT_OK


def _open_input(args):
    if args.file == "-":
        return open(0, "rb", buffering=0, closefd=False), None, args.name
    try:
        source = open(args.file, "rb", buffering=0)  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise LocalFailure("INPUT", f"cannot open {args.file}: {exc.strerror}") from None
    st = os.fstat(source.fileno())
    if stat.S_ISDIR(st.st_mode):
        source.close()
        raise LocalFailure("INPUT", f"{args.file} is a directory")
    size = st.st_size if stat.S_ISREG(st.st_mode) else None
    name = args.name if args.name is not None else os.path.basename(args.file)
    return source, size, name


def cmd_send(args) -> int:
    from .shell import session, transport

    try:
        host, port = transport.parse_address(args.connect, listen=False)
    except ValueError as exc:
        raise _Usage(f"--connect: {exc}") from None
    own, peer = _load_keys(args)
    source, size, name = _open_input(args)
    if name is not None:
        name = name.encode("utf-8", "replace").decode("utf-8")  # undecodable file names
    media = args.type or (mimetypes.guess_type(name)[0] if name else None)
    hdr = app_header.FileHeader(name or None, size, media)
    progress = _progress(args, f"sending {name or 'stdin'}", size)
    with source:
        summary = session.send(
            host,
            port,
            own,
            peer,
            source,
            hdr,
            chunk_size=args.chunk_size,
            timeouts=_timeouts(args),
            progress=progress,
        )
    if args.json:
        _emit_json(sys.stdout, _summary_json(summary))
    elif not args.quiet:
        what = quoted(summary.name) if summary.name else "standard input"
        print(
            f"parley: sent {what} ({summary.bytes} bytes) to {summary.peer_address} in "
            f"{summary.seconds:.2f} s ({_rate(summary)}); the receiver acknowledged all "
            f"{summary.bytes} bytes",
            file=sys.stderr,
        )
    if summary.warning and not args.quiet:
        print(f"parley: warning: {escape(summary.warning)}", file=sys.stderr)
    return EXIT_OK


def _check_out(out: str) -> str | None:
    """Refuse an unusable --out before anyone connects; return the folder files go to."""
    from .shell import sink

    if out == "-":
        return None
    if out.endswith(os.sep) or os.path.isdir(out):
        if not os.path.isdir(out):
            raise LocalFailure("OUTPUT", f"--out {out}: no such folder")
        if not os.access(out, os.W_OK | os.X_OK):
            raise LocalFailure("OUTPUT", f"--out {out}: cannot create files there")
        return out
    sink.existing_target(out)  # a symbolic link, device, FIFO...: refused now
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise LocalFailure("OUTPUT", f"--out {out}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LocalFailure("OUTPUT", f"--out {out}: cannot create files in {folder}")
    return folder


def _report_received(args, summary: Summary, prefix: str = "parley: ") -> None:
    stream = sys.stderr if args.out == "-" else sys.stdout
    if args.json:
        _emit_json(stream, _summary_json(summary))
    elif not args.quiet:
        what = quoted(summary.name) if summary.name else "a message"
        where = "standard output" if summary.path == "-" else quoted(summary.path or "")
        print(
            f"{prefix}received {what} ({summary.bytes} bytes) from {summary.peer_fingerprint} "
            f"at {summary.peer_address} in {summary.seconds:.2f} s ({_rate(summary)}); "
            f"wrote {where} and sent the acknowledgement",
            file=sys.stderr,
            flush=True,
        )
    if summary.warning and not args.quiet:
        print(f"{prefix}warning: {escape(summary.warning)}", file=sys.stderr, flush=True)


def cmd_receive(args) -> int:
    from .shell import ready, session, sink, transport

    try:
        host, port = transport.parse_address(args.listen, listen=True)
    except ValueError as exc:
        raise _Usage(f"--listen: {exc}") from None
    if args.out == "-" and not args.once:
        raise _Usage("--out - (standard output) takes one message: give --once")
    own, peer = _load_keys(args)
    folder = _check_out(args.out)
    if folder is not None and not args.quiet:
        removed, busy = sink.clean_leftovers(folder)
        if removed:
            print(
                f"parley: removed {len(removed)} part file(s) an earlier receiver left in "
                f"{quoted(folder)}: {', '.join(quoted(n) for n in removed)}",
                file=sys.stderr,
            )
        if busy:
            print(
                f"parley: note: {len(busy)} part file(s) in {quoted(folder)} belong to "
                "another running receiver",
                file=sys.stderr,
            )
    elif folder is not None:
        sink.clean_leftovers(folder)
    listener = transport.Listener(host, port, backlog=max(16, 2 * args.max_sessions))
    if args.ready_file is not None:
        try:
            ready.write_ready_file(args.ready_file, ready.listening_record(*listener.address))
        except BaseException:
            listener.close()
            raise
    if not args.quiet:
        host_text = (
            f"[{listener.address[0]}]" if ":" in listener.address[0] else listener.address[0]
        )
        mode = "" if args.once else f" (until SIGINT/SIGTERM; {args.max_sessions} sessions at once)"
        print(
            f"parley: listening on {host_text}:{listener.address[1]}{mode}",
            file=sys.stderr,
            flush=True,
        )
    options = {
        "timeouts": _timeouts(args),
        "force": args.force,
        "fsync": not args.no_fsync,
        "limits": session.ReceiveLimits(args.max_size, args.min_rate, args.rate_grace or 0.0),
    }
    if args.once:
        try:
            summary = session.receive(
                listener,
                own,
                peer,
                args.out,
                progress_factory=lambda total: _progress(args, "receiving", total),
                **options,
            )
        finally:
            listener.close()
        _report_received(args, summary)
        return EXIT_OK
    return _serve(args, listener, own, peer, options)


def _serve(args, listener, own, peer, options: dict) -> int:
    """Receive until SIGINT/SIGTERM; each session's end is one line (shell/server.py)."""
    from .shell import server, session

    out_lock = threading.Lock()

    def log(line: str) -> None:
        if not args.quiet:
            with out_lock:
                print(f"parley: {line}", file=sys.stderr, flush=True)

    def handle(conn, number: int) -> bool:
        prefix = f"parley: session {number}: "
        try:
            summary = session.receive_on(conn, own, peer, args.out, **options)
        except session.SessionFailed as exc:
            with out_lock:
                print(
                    f"{prefix}from {conn.peer} failed: {describe(exc.error, exc.peer_role)}",
                    file=sys.stderr,
                    flush=True,
                )
                if args.json:
                    _emit_json(sys.stdout, _failure_json(args, exc.error, exc.peer_role))
            return False
        except session.Interrupted:
            log(f"session {number} from {conn.peer}: stopped before it completed")
            return False
        except Exception as exc:  # noqa: BLE001 - one session's bug must not stop the listener
            log(
                f"session {number} from {conn.peer} failed: INTERNAL_ERROR (17, §11): "
                f"{type(exc).__name__} (a bug: please report it)"
            )
            return False
        with out_lock:
            _report_received(args, summary, prefix)
        return True

    srv = server.Server(
        listener,
        handle,
        log,
        max_sessions=args.max_sessions,
        max_per_source=args.max_per_source,
    )
    try:
        srv.serve()
    except KeyboardInterrupt:
        pass
    st = srv.stats
    log(
        f"stopped: {st.succeeded} received, {st.failed} failed, {st.refused} refused "
        f"(at most {srv.peak} sessions at once)"
    )
    return EXIT_OK


def cmd_demo(args) -> int:
    from .demo import demo

    return demo()


class _Usage(Exception):
    pass


COMMANDS = {
    "keygen": cmd_keygen,
    "fingerprint": cmd_fingerprint,
    "send": cmd_send,
    "receive": cmd_receive,
    "demo": cmd_demo,
}


def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C, so temporary files go
    raise KeyboardInterrupt


def _failure_json(args, error: ParleyError | LocalFailure, peer_role: str | None) -> dict:
    return {
        "ok": False,
        "command": args.command,
        "error": _json_error(error, peer_role),
        "peak_rss_bytes": memory.peak_rss(),
    }


def _no_core_dumps() -> None:
    """A core dump would write decrypted keys to disk (§13.3): none, for this process."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # not POSIX, or not allowed: nothing to lower
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _no_core_dumps()
    memory.tune_allocator()
    if args.command in ("send", "receive"):
        signal.signal(signal.SIGTERM, _terminate)
    json_stream = sys.stderr if getattr(args, "out", None) == "-" else sys.stdout
    try:
        return COMMANDS[args.command](args)
    except _Usage as exc:
        parser.error(str(exc))
    except (ParleyError, SessionFailed, LocalFailure) as exc:
        error, peer_role = (
            (exc.error, exc.peer_role) if isinstance(exc, SessionFailed) else (exc, None)
        )
        print(f"parley: {args.command} failed: {describe(error, peer_role)}", file=sys.stderr)
        if getattr(args, "json", False):
            _emit_json(json_stream, _failure_json(args, error, peer_role))
        return error.exit_status if isinstance(error, LocalFailure) else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"parley: {args.command} failed: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
