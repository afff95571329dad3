"""Run every fault script (`make faults`), or those named: `python -m faults redis_down`.

Each runs in its own process on its own servers and prints a `fault: <name> held|FAILED` line
with what it counted; the exit status is 1 if any fault did not hold.
"""

import argparse
import subprocess
import sys
import time

FAULTS = (
    "worker_killed",
    "redis_down",
    "postgres_restart",
    "beat_stopped",
    "two_beats",
    "smtp_refusing",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help=f"of {', '.join(FAULTS)}")
    parser.add_argument(
        "--smtp-minutes", default="10", help="how long the SMTP server refuses mail"
    )
    arguments = parser.parse_args()
    names = arguments.names or list(FAULTS)
    if unknown := set(names) - set(FAULTS):
        parser.error(f"no such fault: {', '.join(sorted(unknown))}")
    failed = []
    for name in names:
        started = time.monotonic()
        extra = ["--minutes", arguments.smtp_minutes] if name == "smtp_refusing" else []
        result = subprocess.run([sys.executable, "-m", f"faults.{name}", *extra], check=False)
        print(f"  ({name} took {time.monotonic() - started:.0f} s)", flush=True)
        if result.returncode:
            failed.append(name)
    print(f"faults: {len(names) - len(failed)} of {len(names)} held" + (
        f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
