"""``import pandas_cio`` and a first send load neither pyspark nor hypothesis.

pandera probes for both (pyspark at import, hypothesis when it registers its
pandas backends); :mod:`pandas_cio.prepare.pandera_setup` hides them from it. Each
check runs in a fresh interpreter, since this test process has imported
hypothesis already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from paths import REPO

ROOT = REPO


def _modules_after(code: str) -> dict[str, bool]:
    program = (
        code
        + "\nimport json, sys\n"
        + "print(json.dumps({m: m in sys.modules for m in ('pyspark', 'hypothesis', 'pandera')}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=env
    )
    answer: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_import_loads_neither_pyspark_nor_hypothesis() -> None:
    seen = _modules_after("import pandas_cio")
    assert seen == {"pyspark": False, "hypothesis": False, "pandera": True}


def test_a_first_send_loads_neither() -> None:
    seen = _modules_after(
        "import pandas as pd\nimport pandas_cio\n"
        "frame = pd.DataFrame({'id': ['a', 'b', None], 'plan': ['x', 'y', 'z']})\n"
        "result = frame.cio.identify(user_id='id', dry_run=True, progress=False)\n"
        "assert list(result['status']) == ['dry_run', 'dry_run', 'invalid'], result\n"
    )
    assert seen == {"pyspark": False, "hypothesis": False, "pandera": True}


def test_hypothesis_and_pyspark_import_afterwards() -> None:
    seen = _modules_after(
        "import pandas as pd\nimport pandas_cio\n"
        "pd.DataFrame({'id': ['a']}).cio.identify(user_id='id', dry_run=True, progress=False)\n"
        "import hypothesis\nimport pyspark\n"
    )
    assert seen == {"pyspark": True, "hypothesis": True, "pandera": True}


def test_validation_after_hypothesis_is_imported_still_works() -> None:
    # hypothesis imported first is never hidden: pandera registers as usual.
    seen = _modules_after(
        "import hypothesis\nimport pandas as pd\nimport pandas_cio\n"
        "frame = pd.DataFrame({'id': ['a', None]})\n"
        "result = frame.cio.identify(user_id='id', dry_run=True, progress=False)\n"
        "assert list(result['status']) == ['dry_run', 'invalid'], result\n"
    )
    assert seen["hypothesis"] and not seen["pyspark"]
