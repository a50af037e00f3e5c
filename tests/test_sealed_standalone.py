"""votes/sealed runs on the standard library and libsodium alone (the bundle's verifier).

The package's files are copied beside an empty `votes/__init__.py` and a record is verified by
a Python started with -I -S: no site-packages, so no Flask, SQLAlchemy, PyNaCl or hypothesis.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.sealed_helpers import ROUND, committee
from votes.sealed import aggregate, make_record, partial_decrypt, seal_ballot

PACKAGE = Path(__file__).resolve().parent.parent / "votes" / "sealed"

SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[2])
from votes.sealed import verify_record
record = json.load(open(sys.argv[1], encoding="utf-8"))
problems = verify_record(record)
bad = dict(record, totals=[[0, 0, 0], [0, 0]])
changed = dict(record, ballots=[record["ballots"][0][:-8] + "AAAAAAA=", *record["ballots"][1:]])
if __name__ == "__main__":  # the ballot checks in two processes, started by spawn
    in_processes = verify_record(record, workers=2)
    changed_in_processes = verify_record(changed, workers=2)
print(json.dumps({"problems": problems, "bad": verify_record(bad),
                  "in_processes": in_processes, "changed": changed_in_processes,
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in
                                    ("flask", "sqlalchemy", "nacl", "hypothesis", "pytest"))}))
"""


def test_a_record_verifies_with_only_the_standard_library_and_libsodium(tmp_path: Path) -> None:
    public, keys = committee(2, 3)
    ballots = [
        seal_ballot(
            public.public_key, ROUND.context, [i % 3, i % 2], list(ROUND.options)
        ).to_bytes()
        for i in range(3)
    ]
    tally = aggregate(public.public_key, ROUND.context, ballots, ROUND.options)
    partials = [partial_decrypt(key, public, ROUND.context, tally) for key in keys[1:]]
    (tmp_path / "record.json").write_text(
        json.dumps(make_record(ROUND, public, ballots, partials)), encoding="utf-8"
    )
    (tmp_path / "votes").mkdir()
    (tmp_path / "votes" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy(PACKAGE.parent / "lazy.py", tmp_path / "votes" / "lazy.py")  # stdlib only
    shutil.copytree(
        PACKAGE, tmp_path / "votes" / "sealed", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", SCRIPT, str(tmp_path / "record.json"), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["problems"] == []
    assert any("totals: the record says" in problem for problem in answer["bad"])
    assert answer["modules"] == []
    # The same checks spread over two processes, still on the standard library and libsodium.
    assert answer["in_processes"] == []
    assert any(problem.startswith("ballot 1:") for problem in answer["changed"])
