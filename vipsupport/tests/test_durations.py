"""One compact duration format, on the server and in the browser's live countdown."""

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from vipsupport.durations import compact_duration

PORTAL_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "portal.js"
SECONDS = [0, 1, 59, 60, 61, 605, 3599, 3600, 3661, 5400, 86399, 86400, 90061, 3 * 86400 + 7200]


@pytest.mark.parametrize(
    ("seconds", "minutes_only", "with_seconds"),
    [
        (0, "0m", "0m 00s"),
        (605, "10m", "10m 05s"),
        (3661, "1h 01m", "1h 01m"),
        (90061, "1d 1h", "1d 1h"),
        (-3600, "1h 00m", "1h 00m"),
    ],
)
def test_the_format(seconds, minutes_only, with_seconds):
    value = datetime.timedelta(seconds=seconds)

    assert compact_duration(value) == minutes_only
    assert compact_duration(value, seconds=True) == with_seconds


def test_the_browsers_copy_reads_the_same(tmp_path):
    node = shutil.which("node")
    assert node is not None, "Node.js runs the browser's copy of the format"
    script = tmp_path / "run.js"
    script.write_text(
        "global.window = {};\n"
        "global.document = { addEventListener() {}, querySelectorAll() { return []; } };\n"
        f"require({json.dumps(str(PORTAL_JS))});\n"
        f"console.log(JSON.stringify({json.dumps(SECONDS + [-s for s in SECONDS])}"
        ".map(window.vipCompactDuration)));\n"
    )

    output = subprocess.run(
        [node, str(script)], capture_output=True, text=True, timeout=30, check=True
    ).stdout

    expected = [
        compact_duration(datetime.timedelta(seconds=s), seconds=True)
        for s in SECONDS + [-s for s in SECONDS]
    ]
    assert json.loads(output) == expected
