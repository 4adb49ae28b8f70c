"""Interactive widgets over lsmkit (imported as lsmkit.widgets).

Thin front-ends: all plotting logic lives in :mod:`lsmkit.plots`; a widget only wires controls to it.
"""

from .recording_explorer import RecordingExplorer

__all__ = ["RecordingExplorer"]
