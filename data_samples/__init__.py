"""Bundled data files (installed as ``lsmkit.data_samples``); see README.md in this folder."""
