"""A worker for the race tests: `python launcher.py READY_FD GO_FD ARGV...`.

It imports everything `imtui` needs first (so start-up costs are paid before the start line),
writes one byte to READY_FD, then blocks reading GO_FD; the parent closes the other end of that
pipe once every worker is ready, which releases all of them at the same moment. Then it is exactly
the `imtui` entry point: `sys.exit(imtui.cli.main(ARGV))`.
"""

import os
import sys


def _main() -> None:
    ready_fd, go_fd = int(sys.argv[1]), int(sys.argv[2])
    argv = sys.argv[3:]
    import sqlalchemy.dialects.sqlite  # noqa: F401

    import imtui.bootstrap  # noqa: F401  (paid before the barrier)
    from imtui.cli import main

    try:  # the PostgreSQL driver too, so no worker loads it after the start line
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
    except ImportError:
        pass

    os.write(ready_fd, b"r")
    os.close(ready_fd)
    os.read(go_fd, 1)  # returns b"" when the parent closes its end: the start signal
    os.close(go_fd)
    sys.exit(main(argv))


if __name__ == "__main__":
    _main()
