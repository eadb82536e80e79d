"""Training settings: one frozen record whose fields are declared once, with their checked JSON.

Each field is declared with `workbench.settings_spec` (type, range, default, label, help, group
and when it applies); `TrainSettings.from_dict` / `to_dict`, the constructor's check and the
GUI's run settings form are generated from those declarations. `from_dict` is the only way
settings enter from a project file: it names the offending path
(`training.lr: expected a number > 0, got "abc"`), so that a hand-edited file fails with a message
the user can act on rather than a traceback mid-run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.errors import TrainingError
from workbench.settings_spec import (
    QT_TRANSLATE_NOOP,
    check_fields,
    check_record,
    choice,
    dump_record,
    flag,
    integer,
    number,
    replace_checked,
    text,
)

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULERS = ("none", "step", "cosine", "onecycle")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Syntax only: whether the device exists is decided at run time (devices.resolve_device), so a
# project saved on a GPU machine still opens on a laptop.
DEVICE_PATTERN = r"auto|cpu|mps|cuda(:\d+)?"

# The form's groups (titles are translated like the labels).
OPTIMIZER = QT_TRANSLATE_NOOP("RunSettingsForm", "Optimizer")
SCHEDULE = QT_TRANSLATE_NOOP("RunSettingsForm", "Learning-rate schedule")
LOOP = QT_TRANSLATE_NOOP("RunSettingsForm", "Training loop")
DEVICE = QT_TRANSLATE_NOOP("RunSettingsForm", "Device")
START = QT_TRANSLATE_NOOP("RunSettingsForm", "Start from a trained model")
COST = QT_TRANSLATE_NOOP("RunSettingsForm", "Cost and tracking")


@dataclass(frozen=True)
class TrainSettings:
    """How to train: optimizer, schedule, loop, precision and device."""

    optimizer: str = choice(
        "adam", OPTIMIZERS, group=OPTIMIZER, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Optimizer"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "adam: a good default · adamw: Adam with decoupled weight decay · "
                                                 "sgd: with momentum · rmsprop"))
    # Peak learning rate (after warmup; the maximum for onecycle).
    lr: float = number(
        1e-3, above=0.0, scale="log", group=OPTIMIZER, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Learning rate"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Size of each update; the arrows double or halve it. Too high: "
                                                 "the loss jumps or becomes NaN; too low: it falls slowly"))
    momentum: float = number(
        0.9, minimum=0.0, below=1.0, step=0.05, group=OPTIMIZER, applies_when=(("optimizer", ("sgd", "rmsprop")),),
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Momentum"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "sgd and rmsprop only: how much of the previous update is kept"))
    # L2; decoupled for adamw, added to the gradient otherwise.
    weight_decay: float = number(
        0.0, minimum=0.0, scale="log", group=OPTIMIZER, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Weight decay"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "L2 penalty on the weights (decoupled for adamw); 0 = none"))
    # Weight of sum(|w|) over trainable parameters, added to the loss.
    l1: float = number(
        0.0, minimum=0.0, scale="log", group=OPTIMIZER, label=QT_TRANSLATE_NOOP("RunSettingsForm", "L1 penalty"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Weight of the sum of |w| added to the loss; pushes weights to zero"))
    # Stepped per optimizer step.
    scheduler: str = choice(
        "none", SCHEDULERS, group=SCHEDULE, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Schedule"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "none: constant · step: multiply by the decay factor every few "
                                                 "epochs · cosine: fall smoothly to zero · onecycle: rise, then fall"))
    # PyTorch's MNIST example decays by 0.7 every epoch.
    step_size: int = integer(
        1, minimum=1, group=SCHEDULE, applies_when=(("scheduler", ("step",)),),
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Decay every (epochs)"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "step schedule: epochs between decays"))
    gamma: float = number(
        0.7, above=0.0, maximum=1.0, step=0.05, group=SCHEDULE, applies_when=(("scheduler", ("step",)),),
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Decay factor"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "step schedule: the learning rate is multiplied by this at each decay"))
    # Linear warmup over this many optimizer steps; combines with any schedule.
    warmup_steps: int = integer(
        0, minimum=0, group=SCHEDULE, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Warmup steps"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Raise the learning rate linearly from 0 over this many steps; "
                                                 "helps transformers start"))
    # Total epochs of the run, counting those before a resume.
    epochs: int = integer(
        5, minimum=1, group=LOOP, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Epochs"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Passes over the training set (counting those before a resume)"))
    batch_size: int = integer(
        32, minimum=1, group=LOOP, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Batch size"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Samples per step; larger is faster per sample but needs more memory"))
    # Max global gradient norm; None = no clipping.
    grad_clip: float | None = number(
        None, above=0.0, optional=True, step=0.5, group=LOOP,
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Gradient clipping"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Largest allowed gradient norm; calms a loss that jumps. "
                                                 "Off = no clipping"))
    # Batches whose gradients are summed before one optimizer step.
    grad_accum: int = integer(
        1, minimum=1, group=LOOP, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Gradient accumulation"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Batches summed before each update: a larger effective batch in "
                                                 "the same memory"))
    # "auto": bf16 autocast on CUDA when supported, else fp16 with a GradScaler; fp32 on CPU/MPS.
    precision: str = choice(
        "auto", PRECISIONS, group=LOOP, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Precision"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "auto: bf16 or fp16 mixed precision on a GPU, fp32 on the CPU"))
    # Seeds torch, numpy, random and the shuffling of the training set.
    seed: int = integer(
        0, minimum=0, below=2**63, group=LOOP, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Seed"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Seeds the initial weights and the shuffling: the same seed gives "
                                                 "the same run"))
    # Epochs without a lower validation loss before stopping; None = never stop early.
    early_stopping_patience: int | None = integer(
        None, minimum=1, optional=True, group=LOOP, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Early stopping"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Stop after this many epochs without a lower validation loss. "
                                                 "Off = never"))
    # "auto" | "cpu" | "cuda" | "cuda:N" | "mps"
    device: str = text(
        "auto", pattern=DEVICE_PATTERN, expects='"auto", "cpu", "cuda", "cuda:N" or "mps"', group=DEVICE,
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Device"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Where the run trains; free / total memory as of the last refresh"))
    # DataLoader worker processes; 0 loads in the training thread; None ("auto"): chosen from the
    # cores, the device and whether the data does work per sample (training.loaders.auto_workers).
    num_workers: int | None = integer(
        None, minimum=0, optional=True, none_means=QT_TRANSLATE_NOOP("RunSettingsForm", "auto"), group=LOOP,
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Loader workers"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Processes preparing batches; 0 loads them in the training "
                              "thread; auto picks a number from the cores, the device and the data"))

    # A run folder (its best checkpoint), a checkpoint (.pt) or a weights file (.safetensors or a
    # plain state dict); parameters are copied by node name and shape (training.init_from).
    init_from: str | None = text(
        None, optional=True, group=START, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Initialise from"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "A run folder, checkpoint (.pt) or weights file (.safetensors): "
                                                 "layers with the same name and shape start from its weights"))
    # Two-phase fine-tuning: the frozen layers train too from this epoch on; None = stay frozen.
    unfreeze_epoch: int | None = integer(
        None, minimum=1, optional=True, group=START, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Unfreeze at epoch"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "From this epoch on the frozen layers train too (with their "
                                                 "learning-rate factors). Off = they stay frozen"))

    # Grams of CO₂ per kWh for the run's cost estimate (training.cost.DEFAULT_GRID_G_PER_KWH: about
    # the world average); a user on a cleaner or dirtier grid sets their own.
    grid_intensity: float = number(
        400.0, minimum=0.0, step=50.0, group=COST,
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "Grid carbon intensity (g CO₂/kWh)"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Emissions of the electricity the run uses, for the CO₂ estimate; "
                                                 "400 is about the world average"))
    # Event files in RUN_DIR/tensorboard (training.tracking; needs the tracking extra).
    log_tensorboard: bool = flag(
        False, group=COST, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Log to TensorBoard"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Write TensorBoard event files in the run folder "
                                                 "(pip install 'workbench[tracking]')"))
    log_mlflow: bool = flag(
        False, group=COST, label=QT_TRANSLATE_NOOP("RunSettingsForm", "Log to MLflow"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Log parameters, metrics and files to an MLflow tracking URI "
                                                 "(pip install 'workbench[tracking]')"))
    # None: sqlite:///<runs folder>/mlflow.db, beside the run folders.
    mlflow_uri: str | None = text(
        None, optional=True, group=COST, applies_when=(("log_mlflow", (True,)),),
        label=QT_TRANSLATE_NOOP("RunSettingsForm", "MLflow tracking URI"),
        doc=QT_TRANSLATE_NOOP("RunSettingsForm", "Where MLflow logs: a server (http://...) or a database "
                                                 "(sqlite:///...); default: mlflow.db beside the run folders"))

    def __post_init__(self) -> None:
        check_fields(self, TrainingError, "training setting")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready record with every field."""
        return dump_record(self)

    @classmethod
    def from_dict(cls, d: Any, where: str = "training") -> TrainSettings:
        """Checked inverse of `to_dict`; missing keys take their defaults.

        Raises ProjectFileError naming the path of the first bad field.
        """
        return cls(**check_record(cls, d, where))

    def replace(self, **overrides: Any) -> TrainSettings:
        """A copy with some fields changed (checked like the constructor)."""
        return replace_checked(self, TrainingError, "training setting", **overrides)
