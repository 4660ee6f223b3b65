"""The README's code blocks are real: each Python block is copied from the runnable file in
tests/examples/ that the text before it links to (lines in order; a `...` line stands for lines
left out), and each scenario block (YAML with `version: 1`) loads without an error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from mockserver.scenario import load_text
from tests.conftest import ROOT

README = ROOT / "README.md"
EXAMPLES = ROOT / "tests" / "examples"
LINK = re.compile(r"\(tests/examples/(test_\w+\.py)\)")
ELIDED = "..."


class Block(NamedTuple):
    language: str
    line: int  # 1-based line of the opening fence
    lines: list[str]
    example: str | None  # the tests/examples file last linked before the block


def code_blocks(text: str) -> list[Block]:
    found: list[Block] = []
    example: str | None = None
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            language, start, body = line[3:].strip(), index + 1, []
            index += 1
            while index < len(lines) and not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            found.append(Block(language, start, body, example))
        else:
            for match in LINK.finditer(line):
                example = match.group(1)
        index += 1
    return found


BLOCKS = code_blocks(README.read_text())
PYTHON = [b for b in BLOCKS if b.language == "python"]
SCENARIOS = [
    b for b in BLOCKS if b.language == "yaml" and any(x.startswith("version: 1") for x in b.lines)
]


def missing_lines(snippet: list[str], source: list[str]) -> list[str]:
    """The snippet's lines not found in `source` in the same order (blank and `...` lines
    are free)."""
    position, missing = 0, []
    for line in snippet:
        wanted = line.rstrip()
        if not wanted.strip() or wanted.strip() == ELIDED:
            continue
        try:
            position = source.index(wanted, position) + 1
        except ValueError:
            missing.append(wanted)
    return missing


def test_the_readme_has_python_and_scenario_blocks() -> None:
    assert len(PYTHON) >= 5
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: f"README.md:{b.line}")
def test_a_python_block_is_copied_from_its_example(block: Block) -> None:
    assert block.example is not None, (
        f"README.md:{block.line}: link the tests/examples/ file this block comes from before it"
    )
    source = (EXAMPLES / block.example).read_text().splitlines()
    missing = missing_lines(block.lines, [line.rstrip() for line in source])
    assert not missing, f"README.md:{block.line} differs from {block.example}: {missing}"


@pytest.mark.parametrize("block", SCENARIOS, ids=lambda b: f"README.md:{b.line}")
def test_a_scenario_block_loads(block: Block) -> None:
    load_text("\n".join(block.lines) + "\n", f"README.md:{block.line}")


def test_the_quickstart_is_printed_whole() -> None:
    """The quickstart block is the whole example file but its docstring."""
    [quickstart] = [b for b in PYTHON if b.example == "test_quickstart.py"]
    source = Path(EXAMPLES / "test_quickstart.py").read_text()
    body = source.split('"""', 2)[2].strip("\n").splitlines()
    assert [line.rstrip() for line in quickstart.lines] == body
