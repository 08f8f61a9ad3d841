"""Which processes a test's processes started, and whether they have ended (Linux /proc)."""
from pathlib import Path


def _fields(pid):
    """The fields of /proc/PID/stat after the command name, or None once the process is reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def children_of(pid):
    """The pids of the processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _fields(entry.name)
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def gone(pid):
    """True once `pid` has ended (reaped, or a zombie nobody has reaped yet)."""
    fields = _fields(pid)
    return fields is None or fields[0] == "Z"
