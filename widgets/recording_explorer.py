"""RecordingExplorer: browse recordings one participant-day at a time.

A thin front-end over :func:`lsmkit.plots.recording_figure`: the controls pick the arguments,
the figure builder draws, and the FigureWidget is updated in place with the result.
"""

from __future__ import annotations

import ipywidgets as widgets
import plotly.graph_objects as go
import xarray as xr

from lsmkit.channels import resolve_channel
from lsmkit.plots import DEFAULT_CHANNELS, recording_days, recording_figure

from ._figure import ExplorerBox, replace_figure

__all__ = ["RecordingExplorer"]


class RecordingExplorer(ExplorerBox):
    """Participant dropdown, day slider and channel selector over a live plotly figure.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with dims ``("participant", "time", "channel")``, e.g. ``lsmkit.simulate(...)``.
    participant : str, optional
        Participant shown first; default the first one.
    day : int, default 0
        Local calendar day shown first (see :func:`lsmkit.plots.recording_days`).
    channels : sequence of str, default ``("heart_rate", "steps", "skin_temperature")``
        Channels selected first.
    show_truth : bool, default True
        Draw the ground truth behind gaps when the recordings carry a ``truth`` variable.

    Attributes
    ----------
    participant, day, channels : ipywidgets controls (``Dropdown``, ``IntSlider``, ``SelectMultiple``)
    figure : plotly.graph_objects.FigureWidget
        Updated in place whenever a control changes.
    message : ipywidgets.HTML
        Says why the figure did not change (e.g. no channel selected); empty otherwise.
    """

    def __init__(self, recordings: xr.Dataset, participant=None, day: int = 0, channels=DEFAULT_CHANNELS,
                 show_truth: bool = True):
        self.recordings = recordings
        self.show_truth = show_truth
        names = list(recordings["participant"].values)
        self.participant = widgets.Dropdown(options=[(str(p), p) for p in names], description="participant",
                                            value=names[0] if participant is None else participant)
        self.day = widgets.IntSlider(value=day, min=0, max=self._last_day(), description="day", continuous_update=False)
        self.channels = widgets.SelectMultiple(options=list(recordings["channel"].values),
                                               value=[resolve_channel(c) for c in channels], rows=6,
                                               description="channels")
        self.message = widgets.HTML()
        self.figure = go.FigureWidget(self._build())

        self.participant.observe(self._on_participant, names="value")
        self.day.observe(self.refresh, names="value")
        self.channels.observe(self.refresh, names="value")
        controls = widgets.HBox([widgets.VBox([self.participant, self.day, self.message]), self.channels])
        super().__init__([controls, self.figure])
        self.add_class("lsmkit-recording-explorer")  # a stable hook for styling and browser tests

    def _last_day(self) -> int:
        return len(recording_days(self.recordings, self.participant.value)) - 1

    def _build(self) -> go.Figure:
        return recording_figure(self.recordings, self.participant.value, self.day.value,
                                channels=self.channels.value, show_truth=self.show_truth)

    def _on_participant(self, change=None):
        last = self._last_day()
        clamps = self.day.value > last
        self.day.max = last  # a clamped value redraws through the day observer
        if not clamps:
            self.refresh()

    def refresh(self, change=None):
        """Redraw the figure in place from the current control values.

        Parameters
        ----------
        change : dict, optional
            The traitlets change that triggered it (ignored); ``None`` when called directly.
        """
        try:
            new = self._build()
        except ValueError as error:  # e.g. no channel selected: keep the last figure, say why
            self.message.value = f"<span style='color:#b00'>{error}</span>"
            return
        self.message.value = ""
        replace_figure(self.figure, new)
