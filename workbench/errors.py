"""Errors a user can meet.

Each carries a message that names what is wrong (the node, field, file or flag) and how to fix
it. The command line prints the message on one line and exits non-zero; the app shows it in a
dialog. Any other exception is a bug in Workbench.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base of every error caused by user input rather than by a bug."""


class GraphError(WorkbenchError):
    """The network graph is invalid or an edit to it is refused."""


class ProjectFileError(WorkbenchError):
    """A project or preset file cannot be read: malformed, unknown content, or a future version."""


class DataError(WorkbenchError):
    """A dataset cannot be loaded or does not fit the network."""


class DeviceError(WorkbenchError):
    """The requested device is not available."""


class TrainingError(WorkbenchError):
    """Training stopped because of a problem the user can fix (NaN loss, out of memory, ...)."""


class ExportError(WorkbenchError):
    """A trained run cannot be exported as asked."""


class ModelImportError(WorkbenchError):
    """A model from another library cannot be imported as asked (unknown name, unmapped layers, weights)."""


class ServeError(WorkbenchError):
    """A run or export folder cannot be served as asked."""


class TrackingError(WorkbenchError):
    """A run cannot be logged as asked (TensorBoard, MLflow): a missing package or a bad option."""


class TuningError(WorkbenchError):
    """A hyperparameter search cannot run as asked (its space, objectives, storage or study)."""


class DisplayError(WorkbenchError):
    """The app cannot open a window: no display, or system libraries Qt needs for it are missing."""
