"""The kernel cache from the command line.

    python -m jitgrad.cache [info]   where it is, whether it is trusted, what it holds
    python -m jitgrad.cache clear    remove every cached kernel
"""
import argparse
import sys

from .kernels import cache


def _megabytes(size):
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.1f} kB"


def info():
    state = cache.cache_info()
    lines = [f"kernel cache: {state['directory']}"]
    if not state["exists"]:
        lines.append("empty (not created yet)")
        return "\n".join(lines)
    lines.append("trusted: yes" if state["refused"] is None else f"refused: {state['refused']}")
    lines.append(f"{state['kernels']} kernels, {state['files']} files, "
                 f"{_megabytes(state['bytes'])}")
    return "\n".join(lines)


def clear():
    try:
        files, size = cache.clear_cache()
    except OSError as error:
        return f"could not clear {cache.cache_dir()}: {error}"
    return f"removed {files} files ({_megabytes(size)}) from {cache.cache_dir()}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m jitgrad.cache",
                                     description="Show or clear jitgrad's kernel cache "
                                                 "(JITGRAD_CACHE_DIR).")
    parser.add_argument("command", nargs="?", default="info", choices=["info", "clear"])
    args = parser.parse_args(argv)
    print(info() if args.command == "info" else clear())
    return 0


if __name__ == "__main__":
    sys.exit(main())
