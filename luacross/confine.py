"""Confine the process that runs an image: after `confine(fd)` it can only
compute, manage its own memory, write to `fd` and exit.

Why: an image is bytecode, and Lua 5.1's bytecode verifier is known to let
crafted code corrupt the VM's memory; code that takes over the process must
still be unable to open a file, run a program or reach the network. The
`run` command's child process installs a seccomp filter (Linux, x86-64) that
allows a short list of system calls and fails every other with EPERM. Where
that is not available `confine` returns False and the child runs unconfined
(the Lua sandbox, a child process and the limits still apply).
"""

import ctypes
import errno
import platform
import struct
import sys

# x86-64 system call numbers allowed once confined: memory, signals, time, exit
_ALLOWED = {
    "close": 3,
    "fstat": 5,
    "mmap": 9,
    "mprotect": 10,
    "munmap": 11,
    "brk": 12,
    "rt_sigaction": 13,
    "rt_sigprocmask": 14,
    "rt_sigreturn": 15,
    "mremap": 25,
    "madvise": 28,
    "getpid": 39,
    "exit": 60,
    "gettid": 186,
    "futex": 202,
    "clock_gettime": 228,
    "exit_group": 231,
    "getrandom": 318,
}
_WRITE = 1
_AUDIT_ARCH_X86_64 = 0xC000003E

# classic BPF as seccomp reads it (struct seccomp_data: nr, arch, ip, args[6])
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000 | errno.EPERM
_RET_KILL = 0x80000000  # SECCOMP_RET_KILL_PROCESS
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


def _program(fd: int) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k); a jump skips jt/jf instructions.

    0 load arch; 1 x86-64? on : 2 kill; 3 load nr; 4.. one compare per
    allowed call (-> ALLOW); write? -> fd check : ERRNO; fd check: low word
    == fd and high word == 0 -> ALLOW : ERRNO.
    """
    allowed = sorted(_ALLOWED.values())
    n = len(allowed)
    prog = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, _AUDIT_ARCH_X86_64),
        (_RET_K, 0, 0, _RET_KILL),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    prog += [(_JEQ_K, 6 + n - i, 0, nr) for i, nr in enumerate(allowed)]  # -> ALLOW
    prog += [
        (_JEQ_K, 1, 0, _WRITE),
        (_RET_K, 0, 0, _RET_ERRNO),
        (_LD_W_ABS, 0, 0, 16),  # seccomp_data.args[0], low word
        (_JEQ_K, 0, 2, fd),
        (_LD_W_ABS, 0, 0, 20),  # high word
        (_JEQ_K, 1, 0, 0),
        (_RET_K, 0, 0, _RET_ERRNO),
        (_RET_K, 0, 0, _RET_ALLOW),
    ]
    assert len(prog) == 12 + n
    return prog


def available() -> bool:
    return sys.platform.startswith("linux") and platform.machine() == "x86_64"


def confine(fd: int) -> bool:
    """Allow only memory, signal, time and exit calls, and writes to `fd`."""
    if not available():
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    prog = _program(fd)
    filters = b"".join(struct.pack("<HBBI", *ins) for ins in prog)
    buffer = ctypes.create_string_buffer(filters, len(filters))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buffer, ctypes.c_void_p))
    libc.prctl.argtypes = [
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_ulong,
    ]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
