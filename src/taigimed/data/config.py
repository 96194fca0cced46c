"""Data-pipeline settings: where each source is and how it is processed.

Owned by the data pipeline (issue 2); extend with one documented field per setting.
"""

from pathlib import Path

from pydantic import Field

from taigimed.configbase import StrictModel


class DataConfig(StrictModel):
    data_root: Path | None = Field(
        None,
        description="A folder laid out like shared/data (medqa_tw/, medical_textbooks_zh/, taigi/). "
        "TAIGIMED_DATA_ROOT overrides it; None means the demo sample and PyPI-fetched corpora.",
    )
    max_rows_per_source: int | None = Field(
        None, ge=1, description="Cap rows read from each source (tiny recipe); None reads all."
    )
