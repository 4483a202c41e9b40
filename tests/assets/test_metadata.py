"""The one helper from a stage's result to a Dagster output: each part of a StageResult becomes the right
MetadataValue, under its own key."""

import base64
import re

import dagster as dg
import numpy as np

from trader_assets.metadata import stage_dynamic_outputs, stage_output, stage_outputs
from trader_core.stages.result import StageResult

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(("info", line))

    def warning(self, line):
        self.lines.append(("warning", line))


def test_figures_reports_images_and_paths_become_their_metadata_values(tmp_path):
    plot = tmp_path / "equity.png"
    plot.write_bytes(PNG)
    result = StageResult(value={"a": 1},
                         figures={"rows": np.int64(7), "status": "PASS", "rates": {"fit_inner": np.float32(0.5)},
                                  "warn": ["x", "y"]},
                         reports={"report": "# Title\n\ntext"}, images={"equity_tune": plot},
                         paths={"folder": tmp_path})
    output = stage_output(result)
    meta = output.metadata
    assert output.value == {"a": 1} and output.output_name == "result"
    assert isinstance(meta["rows"], dg.IntMetadataValue) and meta["rows"].value == 7
    assert isinstance(meta["status"], dg.TextMetadataValue) and meta["status"].value == "PASS"
    assert isinstance(meta["rates"], dg.JsonMetadataValue) and meta["rates"].data == {"fit_inner": 0.5}
    assert isinstance(meta["warn"], dg.JsonMetadataValue) and meta["warn"].data == ["x", "y"]
    assert isinstance(meta["report"], dg.MarkdownMetadataValue) and meta["report"].md_str == "# Title\n\ntext"
    image = re.fullmatch(r"!\[equity tune\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", meta["equity_tune"].md_str)
    assert image is not None and base64.b64decode(image.group(1)) == PNG
    assert isinstance(meta["folder"], dg.PathMetadataValue) and meta["folder"].path == str(tmp_path)
    assert set(meta) == {"rows", "status", "rates", "warn", "report", "equity_tune", "folder"}


def test_notes_and_warnings_go_to_the_step_log():
    log = _Log()
    result = StageResult(value=None, notes=("built",), warnings=("a gap", "another gap"))
    stage_output(result, log=log)
    assert log.lines == [("info", "built"), ("warning", "a gap"), ("warning", "another gap")]


def test_a_multi_output_stage_gives_one_output_per_part():
    result = StageResult(outputs={"continue_labels": StageResult(value=1, figures={"dagster/row_count": 3}),
                                  "risk_labels": StageResult(value=2, reports={"report": "risk"})})
    outputs = list(stage_outputs(result))
    assert [(o.output_name, o.value) for o in outputs] == [("continue_labels", 1), ("risk_labels", 2)]
    assert outputs[0].metadata["dagster/row_count"].value == 3 and set(outputs[0].metadata) == {"dagster/row_count"}
    assert outputs[1].metadata["report"].md_str == "risk" and set(outputs[1].metadata) == {"report"}


def test_a_fan_out_stage_gives_one_dynamic_output_per_part_with_its_metadata():
    result = StageResult(outputs={"BTC_USDT_PERP": StageResult(value=1, figures={"rows": 3}),
                                  "ETH_USDT_PERP": StageResult(value=2, figures={"rows": 4})})
    outputs = list(stage_dynamic_outputs(result))
    assert [(o.mapping_key, o.value, o.metadata["rows"].value) for o in outputs] == [
        ("BTC_USDT_PERP", 1, 3), ("ETH_USDT_PERP", 2, 4)]
