"""The two scripts README.md points to run and print what they promise."""

import re
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script, capsys):
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    return capsys.readouterr().out


def test_xor_example_shows_the_stuck_run_and_solved_ones(capsys):
    out = _run("xor.py", capsys)
    rows = [line for line in out.splitlines()[1:] if line.strip()]
    accuracies = [float(line.split()[-1]) for line in rows]
    assert rows[0].startswith("the tutorial (stuck)")
    assert "0.1282" in rows[0] and accuracies[0] == 0.5
    assert len(rows) >= 3 and all(a == 1.0 for a in accuracies[1:])


def test_quickstart_prints_the_comparison_table(capsys):
    out = _run("quickstart.py", capsys)
    table = dict(
        (m.group(1).strip(), (float(m.group(2)), float(m.group(3))))
        for m in re.finditer(r"^\| (.+?) \|\s+([\d.]+) \|\s+([\d.]+) \|$", out, flags=re.M)
    )
    assert set(table) == {
        "ScratchMLPClassifier (grid search)",
        "sklearn MLPClassifier",
        "sklearn LogisticRegression",
    }
    ours, _ = table["ScratchMLPClassifier (grid search)"]
    assert ours > 0.95
    assert ours >= table["sklearn LogisticRegression"][0] - 0.02
