"""Interactive widgets over lsmkit (imported as lsmkit.widgets).

Thin front-ends: all plotting logic lives in :mod:`lsmkit.plots`; a widget only wires controls to it.
"""

from .forecast_explorer import ForecastExplorer
from .mask_explorer import MaskExplorer
from .recording_explorer import RecordingExplorer
from .scaling_explorer import ScalingExplorer

__all__ = ["RecordingExplorer"]
__all__ += ["MaskExplorer", "ForecastExplorer"]
__all__ += ["ScalingExplorer"]
