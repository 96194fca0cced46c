"""Monitoring settings: canary analysis thresholds and the drift report."""

from __future__ import annotations

from pydantic import Field

from taigimed.configbase import StrictModel


class CanaryConfig(StrictModel):
    window: str = Field(
        "30m", description="Prometheus range over which canary and baseline are compared."
    )
    min_requests: int = Field(
        20,
        ge=1,
        description="Fewest canary requests in the window for a verdict; fewer: inconclusive.",
    )
    server_error_kinds: list[str] = Field(
        default_factory=lambda: ["engine", "timeout"],
        description="Values of the errors' 'kind' label that count against a model "
        "(client mistakes such as invalid_request or rate_limited do not).",
    )
    max_error_rate: float = Field(
        0.05, ge=0, le=1, description="Canary error rate above this always rolls back."
    )
    max_error_rate_increase: float = Field(
        0.01, ge=0, le=1, description="Canary error rate may exceed the baseline's by this much."
    )
    ttft_quantile: float = Field(
        0.95, gt=0, lt=1, description="Time-to-first-token quantile compared."
    )
    max_ttft_ratio: float = Field(
        1.5, ge=1, description="Canary TTFT quantile may be this many times the baseline's ..."
    )
    ttft_slack_s: float = Field(
        0.25, ge=0, description="... plus this many seconds (so tiny baselines do not trip it)."
    )
    min_feedback: int = Field(
        10, ge=1, description="Fewest canary feedback events before the negative ratio is judged."
    )
    max_negative_feedback_increase: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Canary negative-feedback share may exceed the baseline's by this.",
    )
    negative_feedback_kinds: list[str] = Field(
        default_factory=lambda: ["thumbs_down", "inaccuracy"],
        description="Values of the feedback 'kind' label that count as negative.",
    )


class DriftConfig(StrictModel):
    max_js_distance: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Jensen-Shannon distance above which a distribution has drifted.",
    )
    max_red_flag_rate_change: float = Field(
        0.05, ge=0, le=1, description="Absolute change in red-flag rate that counts as drift."
    )
    sample_training_rows: int = Field(
        5000, ge=100, description="Training rows sampled (seeded) for the comparison."
    )
    length_bins: list[int] = Field(
        default_factory=lambda: [0, 10, 20, 40, 80, 160, 320, 100000],
        description="Edges of the message-length histogram, in characters.",
    )
    topics: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "fever_infection": ["發燒", "燒", "感冒", "咳", "咳嗽", "喉", "sio", "kha-sàu"],
            "pain": ["痛", "疼", "thiànn"],
            "heart_blood_pressure": ["血壓", "心臟", "心悸", "胸", "hueh-ap", "sim-tsōng"],
            "diabetes": ["糖尿", "血糖", "thn̂g-jiō"],
            "digestion": ["胃", "腹", "肚", "瀉", "吐", "pak-tóo"],
            "medicine": ["藥", "劑", "服用", "io̍h"],
            "sleep_mood": ["睏", "失眠", "睡", "憂鬱", "khùn"],
            "breathing": ["喘", "呼吸", "氣管", "tshuán"],
        },
        description="Topic name -> keywords (Han or Tâi-lô); a message may hit several topics.",
    )


class MonitorConfig(StrictModel):
    canary: CanaryConfig = Field(default_factory=CanaryConfig, description="Canary analysis.")
    drift: DriftConfig = Field(default_factory=DriftConfig, description="Drift report.")
