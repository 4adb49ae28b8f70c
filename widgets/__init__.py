"""Interactive widgets over lsmkit (imported as lsmkit.widgets).

Thin front-ends: all plotting logic lives in :mod:`lsmkit.plots`,
:mod:`lsmkit.scaling_plots` and :mod:`lsmkit.probe_plots`; a widget only wires controls to them.
"""

from .embedding_explorer import EmbeddingExplorer
from .few_shot_explorer import FewShotExplorer
from .forecast_explorer import ForecastExplorer
from .mask_explorer import MaskExplorer
from .recording_explorer import RecordingExplorer
from .scaling_explorer import ScalingExplorer

__all__ = ["RecordingExplorer"]
__all__ += ["MaskExplorer", "ForecastExplorer"]
__all__ += ["ScalingExplorer"]
__all__ += ["EmbeddingExplorer", "FewShotExplorer"]
